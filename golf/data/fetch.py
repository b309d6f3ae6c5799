"""Download the challenge's published shards (spec 2.1), driven by the remote manifest.json.

Remote files live in a Hugging Face dataset repo under a root prefix; each maps to OUT/<path
without the prefix>. A file already complete locally (a valid shard, a loadable tokenizer, and the
size/sha256 the manifest gives, when it gives them) is skipped, so an interrupted fetch resumes;
anything partial or corrupt is fetched again. The downloader is a plain function
`download(remote_path, dest, force)` that puts the file at dest, so tests and offline mirrors can
stand in for the hub.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from golf.data.shards import validate_shard
from golf.errors import GolfError, NetworkError
from golf.io import load_json_file, sha256_file
from golf.progress import progress_bar

DEFAULT_REPO_ID = "willdepueoai/parameter-golf"
DEFAULT_REMOTE_PREFIX = "datasets"
DOCS_FILES = ["docs_selected.jsonl", "docs_selected.source_manifest.json"]

Downloader = Callable[[str, Path, bool], None]


def repo_settings() -> tuple[str, str]:
    """Hub repo id and remote root prefix from the environment, with the challenge's defaults."""
    repo = os.environ.get("MATCHED_FINEWEB_REPO_ID") or DEFAULT_REPO_ID
    prefix = os.environ.get("MATCHED_FINEWEB_REMOTE_ROOT_PREFIX", DEFAULT_REMOTE_PREFIX)
    return repo, prefix.strip("/")


def dataset_name_for_variant(variant: str) -> str:
    if variant == "byte260" or re.fullmatch(r"sp\d+", variant):
        return f"fineweb10B_{variant}"
    raise GolfError(f"unknown variant {variant!r}: expected byte260 or sp<digits> (e.g. sp1024)")


def hub_downloader(repo_id: str) -> Downloader:
    """Downloads through huggingface_hub (its cache makes interrupted downloads resumable).

    The cached file is hard-linked into place (copied where links fail); `force` downloads again,
    for when the cached copy itself turned out bad.
    """
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise GolfError("golf data fetch needs huggingface_hub, which is not installed: "
                        "pip install 'golf[fineweb]'") from None

    online: list[bool | None] = []   # the network probe, made once, only when the cache cannot serve a file

    def download(remote: str, dest: Path, force: bool = False) -> None:
        cached = None
        if not force:
            try:  # the local cache first: no network, no retries
                cached = hf_hub_download(repo_id=repo_id, filename=remote, repo_type="dataset",
                                         local_files_only=True)
            except Exception:
                cached = None
        if cached is None:
            if not online:
                online.append(hub_reachable())
            if online[0] is False:
                raise NetworkError(f"cannot reach {hub_endpoint()} (offline?) to download {remote} from {repo_id}, "
                                   "and it is not in the local Hugging Face cache")
            try:
                cached = hf_hub_download(repo_id=repo_id, filename=remote, repo_type="dataset",
                                         force_download=force)
            except Exception as error:  # the hub client raises many types; all mean "could not get it"
                raise _hub_error(repo_id, remote, error) from None
        place_file(Path(cached), dest, link=True)

    return download


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_reachable(timeout_s: float = 3.0) -> bool | None:
    """Whether a TCP connection to the hub opens within `timeout_s`; None when it cannot be told (a proxy)."""
    import socket
    from urllib.parse import urlsplit

    if any(os.environ.get(name) for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return None
    parts = urlsplit(hub_endpoint())
    port = parts.port or (80 if parts.scheme == "http" else 443)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout_s):
            return True
    except OSError:
        return False


def _hub_error(repo_id: str, remote: str, error: Exception) -> GolfError:
    message = _hub_failure(repo_id, remote, error)
    return NetworkError(message) if message.startswith("cannot reach") else GolfError(message)


def _hub_failure(repo_id: str, remote: str, error: Exception) -> str:
    kind = type(error).__name__
    detail = str(error).strip().splitlines()[0] if str(error).strip() else kind
    if kind == "LocalEntryNotFoundError" or isinstance(error, (ConnectionError, TimeoutError)):
        return (f"cannot reach the Hugging Face hub to download {remote} from {repo_id} "
                f"(no network, or the hub is down), and it is not in the local cache: {detail}")
    if kind == "RepositoryNotFoundError":
        return f"hub dataset {repo_id} not found (check MATCHED_FINEWEB_REPO_ID): {detail}"
    if kind in ("EntryNotFoundError", "RemoteEntryNotFoundError"):
        return f"{remote} does not exist in hub dataset {repo_id}: {detail}"
    return f"cannot download {remote} from hub dataset {repo_id}: {kind}: {detail}"


def mirror_downloader(root: Path) -> Downloader:
    """Reads files from a local directory laid out like the hub repo."""
    root = Path(root)
    if not root.is_dir():
        raise GolfError(f"{root}: mirror directory does not exist")

    def download(remote: str, dest: Path, force: bool = False) -> None:
        path = root / remote
        if not path.is_file():
            raise GolfError(f"{remote} does not exist in mirror {root}")
        place_file(path, dest, link=False)

    return download


@dataclass
class FetchResult:
    out: Path
    dataset: str
    files: list[tuple[Path, str]] = field(default_factory=list)  # (local path, what happened)

    def count(self, status: str) -> int:
        return sum(1 for _, s in self.files if s.startswith(status))


def fetch_dataset(variant: str = "sp1024", train_shards: int = 80, out: Path = Path("data"), *,
                  with_docs: bool = False, skip_manifest: bool = False, download: Downloader | None = None,
                  repo_id: str | None = None, remote_prefix: str | None = None) -> FetchResult:
    """Fetch the manifest, all validation shards, the first `train_shards` train shards and the tokenizer."""
    env_repo, env_prefix = repo_settings()
    repo_id = repo_id or env_repo
    prefix = env_prefix if remote_prefix is None else remote_prefix.strip("/")
    if train_shards < 0:
        raise GolfError(f"--train-shards must be 0 or more, got {train_shards}")
    dataset = dataset_name_for_variant(variant)
    out = Path(out)
    download = download or hub_downloader(repo_id)

    def remote(rel: str) -> str:
        return f"{prefix}/{rel}" if prefix else rel

    manifest_path = out / "manifest.json"
    if skip_manifest:
        if not manifest_path.is_file():
            raise GolfError(f"{manifest_path}: no local manifest (--skip-manifest needs one from an earlier fetch)")
    else:
        download(remote("manifest.json"), manifest_path, False)
    manifest = _read_manifest(manifest_path)
    wanted = _files_to_fetch(manifest, manifest_path, dataset, train_shards, with_docs)
    known = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    result = FetchResult(out=out, dataset=dataset)
    with progress_bar(f"fetching {dataset}", total=len(wanted)) as bar:
        for rel in wanted:
            local = out / rel
            expected = known.get(rel) if isinstance(known.get(rel), dict) else None
            problem = check_file(local, expected)
            if problem is None:
                result.files.append((local, "present"))
            else:
                if problem != "missing":
                    local.unlink()  # break any hard link to a cached copy before replacing it
                download(remote(rel), local, problem != "missing")
                after = check_file(local, expected)
                if after is not None:
                    raise GolfError(f"downloaded {rel} is not valid: {after}")
                status = "fetched" if problem == "missing" else f"re-fetched ({problem})"
                result.files.append((local, status))
            bar.advance(1)
    return result


def _read_manifest(path: Path) -> dict:
    try:
        manifest = load_json_file(path)
    except (OSError, ValueError) as error:
        raise GolfError(f"{path}: not a readable JSON manifest ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("datasets"), list):
        raise GolfError(f"{path}: manifest has no \"datasets\" list")
    return manifest


def _files_to_fetch(manifest: dict, path: Path, dataset: str, train_shards: int, with_docs: bool) -> list[str]:
    entries = {d.get("name"): d for d in manifest["datasets"] if isinstance(d, dict)}
    if dataset not in entries:
        names = ", ".join(sorted(str(n) for n in entries)) or "none"
        raise GolfError(f"{path}: dataset {dataset} is not in the manifest (it lists: {names})")
    entry = entries[dataset]
    stats = entry.get("stats") or {}
    try:
        files_train, files_val = int(stats["files_train"]), int(stats["files_val"])
    except (KeyError, TypeError, ValueError):
        raise GolfError(f"{path}: dataset {dataset} lacks stats.files_train / stats.files_val") from None
    if train_shards > files_train:
        raise GolfError(f"{dataset} has {files_train} train shards; {train_shards} were requested")
    tokenizers = {t.get("name"): t for t in manifest.get("tokenizers", []) if isinstance(t, dict)}
    tokenizer = tokenizers.get(entry.get("tokenizer_name"))
    if tokenizer is None:
        raise GolfError(f"{path}: tokenizer {entry.get('tokenizer_name')!r} of {dataset} is not in the manifest")
    rels = [f"datasets/{dataset}/fineweb_val_{i:06d}.bin" for i in range(files_val)]
    rels += [f"datasets/{dataset}/fineweb_train_{i:06d}.bin" for i in range(train_shards)]
    for key in ("model_path", "vocab_path", "path"):
        if tokenizer.get(key):
            rels.append(_relative(str(tokenizer[key]), path))
    if with_docs:
        rels += DOCS_FILES
    return rels


def _relative(rel: str, manifest_path: Path) -> str:
    rel = rel.replace("\\", "/").lstrip("/")
    if ".." in rel.split("/"):
        raise GolfError(f"{manifest_path}: path {rel!r} leaves the data directory")
    return rel


def check_file(path: Path, expected: dict | None = None) -> str | None:
    """None when `path` is complete, else what is wrong ("missing", "truncated shard", ...)."""
    if not path.is_file():
        return "missing"
    if expected:
        size = expected.get("bytes")
        if size is not None and path.stat().st_size != int(size):
            return f"size {path.stat().st_size} instead of {size}"
    if path.suffix == ".bin":
        problem = validate_shard(path)
        if problem:
            return problem.removeprefix(f"{path}: ")
    elif path.suffix == ".model":
        problem = _tokenizer_problem(path)
        if problem:
            return problem
    elif path.stat().st_size == 0:
        return "empty file"
    if expected and expected.get("sha256") and sha256_file(path) != expected["sha256"]:
        return "sha256 differs from the manifest"
    return None


def _tokenizer_problem(path: Path) -> str | None:
    import sentencepiece as spm

    try:
        spm.SentencePieceProcessor(model_file=str(path))
    except (OSError, RuntimeError):
        return "not a loadable SentencePiece model"
    return None


def place_file(source: Path, dest: Path, *, link: bool) -> None:
    """Put `source` at `dest` atomically: a hard link when asked and possible, else a copy."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        try:
            if not link:
                raise OSError("copy requested")
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
