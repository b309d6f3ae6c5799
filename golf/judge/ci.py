"""`golf ci`: judge a record pull request from git alone.

A record pull request passes when its change set (`git diff base...head`, i.e. from the merge base
to head) only adds files inside one new folder `records/<track>/<folder>/`, and that folder passes
static verification. The folder is read as committed at head, extracted from git objects into a
temporary directory (no checkout, no `.gitattributes` processing), so nothing in the working tree
matters and nothing from the pull request is ever imported or run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError

RECORDS = "records"
CHUNK = 1 << 20


@dataclass
class Change:
    """One entry of `git diff --name-status`: A(dded), M(odified), D(eleted), R(enamed), C(opied), T(ype)."""

    status: str
    path: str
    old_path: str | None = None

    def to_dict(self) -> dict:
        return {"status": self.status, "path": self.path, "old_path": self.old_path}


@dataclass
class ChangeSet:
    base: str
    head: str
    merge_base: str
    head_commit: str
    changes: list[Change] = field(default_factory=list)
    new_folders: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and len(self.new_folders) == 1

    @property
    def findings(self) -> list:
        """Each problem as a finding of rule G901 (golf.judge.checks.changeset)."""
        from golf.judge.findings import emit

        return [emit("G901", problem, _first_path(problem)) for problem in self.problems]


def _first_path(problem: str) -> str | None:
    """The path a change-set problem names first, in backquotes (classify writes them so), for annotations."""
    found = re.search(r"`([^`]+)`", problem)
    return found.group(1) if found else None


@dataclass
class CiResult:
    changeset: ChangeSet
    report: object | None  # golf.render.report.Report for the new folder(s), None when there is none

    @property
    def passed(self) -> bool:
        return self.changeset.passed and self.report is not None and self.report.passed

    def to_dict(self) -> dict:
        cs = self.changeset
        return {"passed": self.passed, "base": cs.base, "head": cs.head, "merge_base": cs.merge_base,
                "head_commit": cs.head_commit, "changes": [c.to_dict() for c in cs.changes],
                "new_folders": cs.new_folders, "change_set_passed": cs.passed, "problems": cs.problems,
                "findings": [f.to_dict() for f in cs.findings],
                "report": self.report.to_dict() if self.report is not None else None}


# ---------------------------------------------------------------------------------------------
# git


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    """Run git in `repo`; a failure becomes a GolfError carrying git's own message."""
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], input=input, capture_output=True)
    except FileNotFoundError:
        raise GolfError("git is not installed (golf ci reads the change set with git)") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
        raise GolfError(f"git {' '.join(args[:2])} failed in {repo}: {message}")
    return done.stdout


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def check_repo(repo: Path) -> Path:
    if not repo.is_dir():
        raise GolfError(f"{repo}: not a folder")
    try:
        top = git(repo, "rev-parse", "--show-toplevel")
    except GolfError:
        raise GolfError(f"{repo}: not a git repository (golf ci compares two revisions of one)") from None
    return Path(_text(top).strip())


def resolve_commit(repo: Path, rev: str) -> str:
    try:
        return _text(git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")).strip()
    except GolfError:
        raise GolfError(f"unknown revision {rev!r} in {repo} (in a CI checkout, fetch the full history, "
                        "e.g. actions/checkout with fetch-depth: 0)") from None


def merge_base(repo: Path, base: str, head: str) -> str:
    try:
        return _text(git(repo, "merge-base", base, head)).strip()
    except GolfError:
        raise GolfError(f"revisions {base[:12]} and {head[:12]} have no common ancestor in {repo}") from None


def diff_changes(repo: Path, base: str, head: str) -> list[Change]:
    """The changes from `base` to `head` (commits), renames detected, paths exactly as stored."""
    raw = git(repo, "diff", "--name-status", "-z", "-M", "--no-ext-diff", "--no-textconv", base, head, "--")
    fields = [_text(f) for f in raw.split(b"\0") if f]
    changes, i = [], 0
    while i < len(fields):
        status = fields[i]
        kind = status[0]
        if kind in "RC":
            changes.append(Change(kind, fields[i + 2], old_path=fields[i + 1]))
            i += 3
        else:
            changes.append(Change(kind, fields[i + 1]))
            i += 2
    return changes


def _exists_at(repo: Path, commit: str, path: str) -> bool:
    return bool(git(repo, "ls-tree", "--name-only", commit, "--", path).strip())


# ---------------------------------------------------------------------------------------------
# The change-set rule


def _folder_of(path: str) -> str | None:
    """`records/<track>/<folder>` for a file inside a record folder, else None."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[0] == RECORDS and all(parts[:3]):
        return "/".join(parts[:3])
    return None


# What trainers and golf leave next to a record: never part of one (weights are counted from the logs).
ARTIFACT_SUFFIXES = (".pt", ".ptz", ".pth", ".ckpt", ".safetensors", ".npz")
OUTPUT_FOLDERS = ("logs", "__pycache__", ".golf-rerun", ".golf-train")


def not_a_record_file(path: str) -> str | None:
    """Why a file inside a record folder should not be committed (a backup, a model artifact), or None."""
    parts = path.split("/")
    name = parts[-1]
    if name.endswith((".bak", "~")) or ".bak." in name:
        return "a backup copy"
    if name.startswith("final_model.") or name.endswith(ARTIFACT_SUFFIXES):
        return "a model artifact (a record ships its logs, which state the compressed size, not its weights)"
    if any(part in OUTPUT_FOLDERS for part in parts[3:-1]):
        return "output of a run (logs/ is the trainer's scratch; file each log as train_seed<SEED>.log)"
    return None


def classify(changes: list[Change], repo: Path, merge_base_commit: str, ruleset) -> tuple[list[str], list[str]]:
    """(new record folders, problems): every change must add a file inside one new record folder."""
    problems: list[str] = []
    folders: dict[str, None] = {}
    verbs = {"M": "modifies", "D": "deletes", "T": "changes the type of"}
    for change in changes:
        if change.status == "R":
            problems.append(f"renames `{change.old_path}` to `{change.path}`")
            continue
        if change.status in verbs:
            problems.append(f"{verbs[change.status]} `{change.path}`")
            continue
        folder = _folder_of(change.path)
        if change.status not in ("A", "C") or folder is None:
            problems.append(f"adds `{change.path}` outside a record folder `{RECORDS}/<track>/<folder>/`"
                            if change.status in ("A", "C") else f"changes `{change.path}` ({change.status})")
            continue
        if why := not_a_record_file(change.path):
            problems.append(f"adds `{change.path}`: {why}; remove it from the pull request "
                            "(the .gitignore `golf new` puts in a record folder keeps such files out)")
        folders.setdefault(folder)
    new = []
    for folder in folders:
        track = folder.split("/")[1]
        if ruleset is not None and ruleset.find_track(track) is None:
            problems.append(f"`{RECORDS}/{track}/` is not a track of ruleset {ruleset.name} "
                            f"(tracks: {', '.join(sorted(ruleset.tracks))})")
        if _exists_at(repo, merge_base_commit, folder):
            problems.append(f"adds files to the existing record folder `{folder}` (a record folder is added "
                            "once, in one pull request, and never changed)")
        else:
            new.append(folder)
    if not changes:
        problems.append("the change set is empty")
    elif not new and not problems:
        problems.append("adds no new record folder")
    if len(new) > 1:
        problems.append(f"adds {len(new)} record folders ({', '.join(f'`{f}`' for f in new)}); "
                        "a record pull request adds exactly one")
    return new, problems


# ---------------------------------------------------------------------------------------------
# Reading the head tree without a checkout


def extract_tree(repo: Path, commit: str, subpath: str, dest: Path) -> list[str]:
    """Write the files under `subpath` at `commit` into `dest`, byte for byte from git's objects.

    Symbolic links are recreated as links (verification reports those leaving a folder);
    submodules are skipped. Returns the extracted paths.
    """
    listing = git(repo, "ls-tree", "-r", "-z", "--full-tree", commit, "--", subpath)
    entries = []
    for item in listing.split(b"\0"):
        if not item:
            continue
        meta, path = item.split(b"\t", 1)
        mode, kind, sha = _text(meta).split()
        if kind == "blob":
            entries.append((mode, sha, _text(path)))
    if not entries:
        return []
    proc = subprocess.Popen(["git", "-C", str(repo), "cat-file", "--batch"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    feeder = _feed(proc, [sha for _, sha, _ in entries])
    try:
        for mode, sha, path in entries:
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[1] != b"blob":
                raise GolfError(f"git cat-file could not read {path} ({sha}) in {repo}")
            size = int(header[2])
            if any(part in ("", ".", "..") for part in path.split("/")):
                raise GolfError(f"refusing to extract {path!r}: a path component is empty, '.' or '..'")
            target = dest / path
            _inside(dest, target)
            _no_links_on_the_way(dest, target)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if mode == "120000":
                    link = _read_exact(proc.stdout, size)
                    os.symlink(_text(link), target)
                else:
                    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                    with os.fdopen(os.open(target, flags, 0o644), "wb") as out:
                        _copy_exact(proc.stdout, out, size)
            except OSError as error:  # e.g. a file `s` and a folder `s/` in one crafted tree
                raise GolfError(f"refusing to extract {path!r}: {error.strerror or error}") from None
            proc.stdout.read(1)  # the newline after each object
    finally:
        feeder.join()
        proc.stdout.close()
        proc.wait()
    return [path for _, _, path in entries]


def _feed(proc: subprocess.Popen, shas: list[str]):
    import threading

    def write():
        try:
            for sha in shas:
                proc.stdin.write(f"{sha}\n".encode())
            proc.stdin.close()
        except BrokenPipeError:
            pass

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def _inside(dest: Path, target: Path) -> None:
    # git paths never contain `..`, but a path is checked before anything is written anyway.
    if not os.path.normpath(target).startswith(os.path.normpath(dest) + os.sep):
        raise GolfError(f"refusing to extract {target}: outside {dest}")


def _no_links_on_the_way(dest: Path, target: Path) -> None:
    """A tree can hold a link `s` and then a file `s/x`: writing that file would leave `dest`."""
    from golf.io import UnsafeFile, check_no_symlinks

    try:
        check_no_symlinks(target, dest)
        if os.path.lexists(target):
            raise UnsafeFile(target, "is listed twice in the tree")
    except UnsafeFile as error:
        raise GolfError(f"refusing to extract {os.fsdecode(target)}: {error.strerror}") from None


def _read_exact(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise GolfError("git cat-file ended early")
    return data


def _copy_exact(stream, out, size: int) -> None:
    left = size
    while left:
        block = stream.read(min(CHUNK, left))
        if not block:
            raise GolfError("git cat-file ended early")
        out.write(block)
        left -= len(block)


# ---------------------------------------------------------------------------------------------
# The whole check


def run_ci(repo, base: str, head: str = "HEAD", *, ruleset=None, select=None, ignore=None) -> CiResult:
    """Judge the change set base...head of `repo` and statically verify its new record folder.

    The options given are merged with the base branch's golf configuration (never the pull request's):
    without `ruleset`, the configuration names one, else each record is judged by the ruleset in force
    on its date, as `golf verify` does.
    """
    from golf.judge.judging import judging
    from golf.read.config import parse_config

    repo = check_repo(Path(repo))
    base_commit = resolve_commit(repo, base)
    head_commit = resolve_commit(repo, head)
    fork = merge_base(repo, base_commit, head_commit)
    changes = diff_changes(repo, fork, head_commit)
    config_file = config_at(repo, base_commit)
    config = parse_config(config_file[1], Path(config_file[0]), repo) if config_file else None
    settings = judging(ruleset=ruleset, select=select, ignore=ignore, config=config)
    new, problems = classify(changes, repo, fork, settings.default_ruleset)
    changeset = ChangeSet(base=base, head=head, merge_base=fork, head_commit=head_commit, changes=changes,
                          new_folders=new, problems=problems)
    given = dict(ruleset=ruleset, select=select, ignore=ignore)
    report = _verify_folders(repo, head_commit, new, given, config_file) if new else None
    return CiResult(changeset=changeset, report=report)


CONFIG_FILES = ("golf.toml", "pyproject.toml")
CONFIG_READ_LIMIT = 1_000_000


def config_at(repo: Path, commit: str) -> tuple[str, str] | None:
    """(file name, text) of the golf configuration at the root of `commit`, or None.

    CI reads the configuration of the base branch, never the pull request's: a record's pull
    request cannot waive its own findings (and changing the file is a change-set problem anyway).
    """
    for name in CONFIG_FILES:
        if not _exists_at(repo, commit, name):
            continue
        size = int(_text(git(repo, "cat-file", "-s", f"{commit}:{name}")).strip() or 0)
        if size > CONFIG_READ_LIMIT:
            raise GolfError(f"{name} at {commit[:12]}: {size:,} bytes, more than a configuration holds")
        text = _text(git(repo, "cat-file", "blob", f"{commit}:{name}"))
        if name == "pyproject.toml" and "[tool.golf" not in text:
            continue
        return name, text
    return None


def _verify_folders(repo: Path, head_commit: str, folders: list[str], given: dict, config_file):
    """`given`: the judging options of the command line (the base branch's configuration fills the rest)."""
    from golf.judge.judging import judging
    from golf.judge.verify import Verifier
    from golf.read.config import parse_config

    scratch = Path(tempfile.mkdtemp(prefix="golf-ci-"))
    try:
        # The whole records tree at head: the verifier finds the current SOTA of the track in it.
        extract_tree(repo, head_commit, RECORDS, scratch)
        # The base branch's configuration, its paths taken from the scratch copy of the tree.
        config = parse_config(config_file[1], Path(config_file[0]), scratch) if config_file else None
        scratch_settings = judging(**given, records_root=scratch / RECORDS, config=config)
        verifier = Verifier(judging=scratch_settings, curves=True)
        report = verifier.new_report()
        for folder in folders:
            record = verifier.verify(scratch / folder)
            record.path = folder  # report the path as it is in the repository, not the scratch copy
            report.records.append(record)
        report.ruleset = verifier.ruleset_used(report.records)
        return report
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


__all__ = ["Change", "ChangeSet", "CiResult", "run_ci", "diff_changes", "classify",
           "extract_tree", "not_a_record_file"]
