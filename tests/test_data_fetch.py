"""`golf data fetch` (spec 2.1) against a local directory laid out like the hub repo; no network."""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from golf.cli import main
from golf.data import fetch as fetch_module
from golf.data.fetch import fetch_dataset, mirror_downloader
from golf.data.shards import write_shard
from golf.data.smoke import ensure_smoke
from golf.errors import GolfError

DATASET = "fineweb10B_sp1024"


@pytest.fixture(scope="module")
def smoke_model(tmp_path_factory):
    return ensure_smoke(tmp_path_factory.mktemp("smoke"))[1]


def make_hub(root: Path, smoke_model: Path, prefix="datasets", with_hashes=False, train=3, val=2) -> Path:
    """A fake hub repo: <prefix>/manifest.json, shards and tokenizer, as the challenge publishes them."""
    base = root / prefix if prefix else root
    shards = base / "datasets" / DATASET
    rng = np.random.default_rng(0)
    for i in range(val):
        write_shard(shards / f"fineweb_val_{i:06d}.bin", rng.integers(0, 1024, 1000 + i))
    for i in range(train):
        write_shard(shards / f"fineweb_train_{i:06d}.bin", rng.integers(0, 1024, 2000 + i))
    (base / "tokenizers").mkdir(parents=True)
    shutil.copyfile(smoke_model, base / "tokenizers/fineweb_1024_bpe.model")
    shutil.copyfile(smoke_model.with_suffix(".vocab"), base / "tokenizers/fineweb_1024_bpe.vocab")
    (base / "docs_selected.jsonl").write_text('{"text": "a document"}\n')
    (base / "docs_selected.source_manifest.json").write_text('{"num_docs": 1, "docs_val": 0}\n')
    manifest = {
        "version": "10B",
        "tokenizers": [{"name": "sp_bpe_1024", "kind": "sentencepiece_bpe", "vocab_size": 1024,
                        "model_path": "tokenizers/fineweb_1024_bpe.model",
                        "vocab_path": "tokenizers/fineweb_1024_bpe.vocab"}],
        "datasets": [{"name": DATASET, "tokenizer_name": "sp_bpe_1024",
                      "stats": {"files_train": train, "files_val": val}},
                     {"name": "fineweb10B_byte260", "tokenizer_name": "pure_byte_260",
                      "stats": {"files_train": 0, "files_val": 0}}],
    }
    if with_hashes:
        import hashlib

        manifest["files"] = {p.relative_to(base).as_posix(): {"bytes": p.stat().st_size,
                                                              "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
                             for p in base.rglob("*") if p.is_file()}
    (base / "manifest.json").write_text(json.dumps(manifest))
    return root


class Recorder:
    """A downloader that serves from the fake hub and remembers what was asked for."""

    def __init__(self, root: Path):
        self.inner = mirror_downloader(root)
        self.calls: list[tuple[str, bool]] = []

    def __call__(self, remote, dest, force=False):
        self.calls.append((remote, force))
        self.inner(remote, dest, force)


@pytest.fixture
def hub(tmp_path, smoke_model):
    return make_hub(tmp_path / "hub", smoke_model)


def test_fetches_manifest_val_shards_first_train_shards_and_tokenizer(hub, tmp_path):
    recorder = Recorder(hub)
    result = fetch_dataset("sp1024", 2, tmp_path / "data", download=recorder)
    assert [c[0] for c in recorder.calls] == [
        "datasets/manifest.json",
        f"datasets/datasets/{DATASET}/fineweb_val_000000.bin", f"datasets/datasets/{DATASET}/fineweb_val_000001.bin",
        f"datasets/datasets/{DATASET}/fineweb_train_000000.bin", f"datasets/datasets/{DATASET}/fineweb_train_000001.bin",
        "datasets/tokenizers/fineweb_1024_bpe.model", "datasets/tokenizers/fineweb_1024_bpe.vocab"]
    local = sorted(p.relative_to(tmp_path / "data").as_posix() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert local == [f"datasets/{DATASET}/fineweb_train_000000.bin", f"datasets/{DATASET}/fineweb_train_000001.bin",
                     f"datasets/{DATASET}/fineweb_val_000000.bin", f"datasets/{DATASET}/fineweb_val_000001.bin",
                     "manifest.json", "tokenizers/fineweb_1024_bpe.model", "tokenizers/fineweb_1024_bpe.vocab"]
    for rel in local:
        assert (tmp_path / "data" / rel).read_bytes() == (hub / "datasets" / rel).read_bytes()
    assert result.count("fetched") == 6 and result.count("present") == 0


def test_second_run_verifies_and_skips_everything(hub, tmp_path):
    fetch_dataset("sp1024", 3, tmp_path / "data", download=Recorder(hub))
    recorder = Recorder(hub)
    result = fetch_dataset("sp1024", 3, tmp_path / "data", download=recorder)
    assert [c[0] for c in recorder.calls] == ["datasets/manifest.json"]
    assert result.count("present") == 7


def test_resume_refetches_a_truncated_shard_and_fetches_what_is_missing(hub, tmp_path):
    data = tmp_path / "data"
    fetch_dataset("sp1024", 1, data, download=Recorder(hub))
    partial = data / "datasets" / DATASET / "fineweb_train_000000.bin"
    with open(partial, "r+b") as f:
        f.truncate(1500)  # as an interrupted copy would leave it
    recorder = Recorder(hub)
    result = fetch_dataset("sp1024", 3, data, download=recorder)
    statuses = {p.name: s for p, s in result.files}
    assert statuses["fineweb_train_000000.bin"].startswith("re-fetched (size 1500 bytes does not match the header")
    assert statuses["fineweb_train_000001.bin"] == statuses["fineweb_train_000002.bin"] == "fetched"
    assert statuses["fineweb_val_000000.bin"] == "present"
    assert (f"datasets/datasets/{DATASET}/fineweb_train_000000.bin", True) in recorder.calls
    assert partial.read_bytes() == (hub / "datasets/datasets" / DATASET / "fineweb_train_000000.bin").read_bytes()


def test_a_corrupt_tokenizer_is_refetched(hub, tmp_path):
    data = tmp_path / "data"
    fetch_dataset("sp1024", 0, data, download=Recorder(hub))
    (data / "tokenizers/fineweb_1024_bpe.model").write_bytes(b"\x00garbage")
    result = fetch_dataset("sp1024", 0, data, download=Recorder(hub))
    assert ("re-fetched (not a loadable SentencePiece model)"
            in [s for p, s in result.files if p.name == "fineweb_1024_bpe.model"])


def test_manifest_hashes_catch_a_changed_shard_with_a_valid_header(tmp_path, smoke_model):
    hub = make_hub(tmp_path / "hub", smoke_model, with_hashes=True)
    data = tmp_path / "data"
    fetch_dataset("sp1024", 1, data, download=Recorder(hub))
    shard = data / "datasets" / DATASET / "fineweb_val_000001.bin"
    content = bytearray(shard.read_bytes())
    content[-1] ^= 0xFF  # same size, valid header, different token
    shard.write_bytes(bytes(content))
    result = fetch_dataset("sp1024", 1, data, download=Recorder(hub))
    assert "re-fetched (sha256 differs from the manifest)" in [s for p, s in result.files if p == shard]


def test_with_docs_and_skip_manifest(hub, tmp_path):
    data = tmp_path / "data"
    fetch_dataset("sp1024", 0, data, download=Recorder(hub), with_docs=True)
    assert (data / "docs_selected.jsonl").is_file() and (data / "docs_selected.source_manifest.json").is_file()
    recorder = Recorder(hub)
    fetch_dataset("sp1024", 1, data, download=recorder, skip_manifest=True)
    assert [c[0] for c in recorder.calls] == [f"datasets/datasets/{DATASET}/fineweb_train_000000.bin"]


def test_repo_prefix_from_the_environment(tmp_path, smoke_model, monkeypatch):
    hub = make_hub(tmp_path / "hub", smoke_model, prefix="exports/v2")
    monkeypatch.setenv("MATCHED_FINEWEB_REMOTE_ROOT_PREFIX", "exports/v2")
    recorder = Recorder(hub)
    fetch_dataset("sp1024", 1, tmp_path / "data", download=recorder)
    assert recorder.calls[0][0] == "exports/v2/manifest.json"
    assert (tmp_path / "data/datasets" / DATASET / "fineweb_train_000000.bin").is_file()


@pytest.mark.parametrize("variant, shards, fragment", [
    ("sp1024", 4, "has 3 train shards; 4 were requested"),
    ("gpt2", 1, "unknown variant 'gpt2'"),
    ("sp4096", 1, "dataset fineweb10B_sp4096 is not in the manifest"),
    ("byte260", 0, "tokenizer 'pure_byte_260' of fineweb10B_byte260 is not in the manifest"),
    ("sp1024", -1, "must be 0 or more"),
])
def test_bad_requests(hub, tmp_path, variant, shards, fragment):
    with pytest.raises(GolfError) as caught:
        fetch_dataset(variant, shards, tmp_path / "data", download=Recorder(hub))
    assert fragment in str(caught.value)


def test_bad_manifests_and_missing_files(hub, tmp_path, smoke_model):
    with pytest.raises(GolfError, match="no local manifest"):
        fetch_dataset("sp1024", 1, tmp_path / "data", download=Recorder(hub), skip_manifest=True)
    (hub / "datasets/manifest.json").write_text("{not json")
    with pytest.raises(GolfError, match="not a readable JSON manifest"):
        fetch_dataset("sp1024", 1, tmp_path / "data", download=Recorder(hub))
    make_hub(tmp_path / "hub2", smoke_model)
    (tmp_path / "hub2/datasets/datasets" / DATASET / "fineweb_train_000001.bin").unlink()
    with pytest.raises(GolfError, match="fineweb_train_000001.bin does not exist in mirror"):
        fetch_dataset("sp1024", 2, tmp_path / "data2", download=Recorder(tmp_path / "hub2"))


def test_a_corrupt_file_on_the_hub_is_an_error(hub, tmp_path):
    (hub / "datasets/datasets" / DATASET / "fineweb_val_000000.bin").write_bytes(b"\x01\x02")
    with pytest.raises(GolfError, match="downloaded datasets/fineweb10B_sp1024/fineweb_val_000000.bin is not valid"):
        fetch_dataset("sp1024", 0, tmp_path / "data", download=Recorder(hub))


def test_missing_huggingface_hub_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    with pytest.raises(GolfError, match=r"pip install 'golf\[fineweb\]'"):
        fetch_dataset("sp1024", 1, tmp_path / "data")


def test_unreachable_hub_is_a_clear_error(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    from huggingface_hub.errors import LocalEntryNotFoundError

    def offline(**kwargs):
        raise LocalEntryNotFoundError("cannot connect, and the file is not cached")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", offline)
    monkeypatch.setattr(fetch_module, "hub_reachable", lambda: True)  # the hub answers, the download fails
    with pytest.raises(GolfError, match="cannot reach the Hugging Face hub to download datasets/manifest.json "
                                        "from willdepueoai/parameter-golf"):
        fetch_dataset("sp1024", 1, tmp_path / "data")


def test_hub_downloader_links_the_cached_file(tmp_path, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    cached = tmp_path / "cache" / "blob"
    cached.parent.mkdir()
    cached.write_bytes(b"content")
    seen = {}

    def fake(**kwargs):
        seen.update(kwargs)
        return str(cached)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", fake)
    monkeypatch.setattr(fetch_module, "hub_reachable", lambda: True)
    fetch_module.hub_downloader("me/repo")("datasets/x.json", tmp_path / "out" / "x.json", True)
    assert seen == {"repo_id": "me/repo", "filename": "datasets/x.json", "repo_type": "dataset",
                    "force_download": True}
    assert (tmp_path / "out" / "x.json").read_bytes() == b"content"
    assert (tmp_path / "out" / "x.json").stat().st_ino == cached.stat().st_ino


def test_offline_fails_fast_with_one_line_and_its_own_exit_status(tmp_path, monkeypatch, capsys):
    """Nothing listens on port 1 of this machine: the probe is refused at once, and the hub client (a stand-in
    here, so the test needs no huggingface_hub) is never asked to go online and retry."""
    import time
    import types

    calls = []

    def hf_hub_download(**kwargs):
        calls.append(kwargs)
        raise FileNotFoundError("not in the cache")

    monkeypatch.setitem(sys.modules, "huggingface_hub", types.SimpleNamespace(hf_hub_download=hf_hub_download))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:1")
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    start = time.monotonic()
    assert main(["data", "fetch", "--train-shards", "1"]) == 3
    assert time.monotonic() - start < 5
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot reach http://127.0.0.1:1 (offline?)" in err
    assert [c.get("local_files_only") for c in calls] == [True]  # only the cache was asked


# ---------------------------------------------------------------- the command

def test_fetch_command(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "fetch", "--mirror", str(hub), "--train-shards", "1"]) == 0
    out = capsys.readouterr().out
    assert "fineweb10B_sp1024: 5 files in data (5 fetched, 0 re-fetched, 0 already present)" in out
    assert Path("data/datasets", DATASET, "fineweb_train_000000.bin").is_file()
    assert main(["data", "fetch", "--mirror", str(hub), "--train-shards", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert {f["status"] for f in report["files"]} == {"present"}


def test_fetch_command_bad_input(hub, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "fetch", "--mirror", str(hub), "--train-shards", "9"]) == 2
    assert "golf: error: fineweb10B_sp1024 has 3 train shards; 9 were requested" in capsys.readouterr().err
    assert main(["data", "fetch", "--mirror", str(tmp_path / "nowhere")]) == 2
    assert "mirror directory does not exist" in capsys.readouterr().err
