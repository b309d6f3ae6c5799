"""git plumbing for `golf ci`: commits, the change set between two revisions, a tree extracted from git
objects (no checkout, no `.gitattributes` processing, no link followed), and the configuration at a commit.

Only reading: nothing here writes to the repository.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from golf.errors import GolfError

CHUNK = 1 << 20


@dataclass
class Change:
    """One entry of `git diff --name-status`: A(dded), M(odified), D(eleted), R(enamed), C(opied), T(ype)."""

    status: str
    path: str
    old_path: str | None = None

    def to_dict(self) -> dict:
        return {"status": self.status, "path": self.path, "old_path": self.old_path}


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


def exists_at(repo: Path, commit: str, path: str) -> bool:
    return bool(git(repo, "ls-tree", "--name-only", commit, "--", path).strip())


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


CONFIG_FILES = ("golf.toml", "pyproject.toml")


CONFIG_READ_LIMIT = 1_000_000


def config_at(repo: Path, commit: str) -> tuple[str, str] | None:
    """(file name, text) of the golf configuration at the root of `commit`, or None.

    CI reads the configuration of the base branch, never the pull request's: a record's pull
    request cannot waive its own findings (and changing the file is a change-set problem anyway).
    """
    for name in CONFIG_FILES:
        if not exists_at(repo, commit, name):
            continue
        size = int(_text(git(repo, "cat-file", "-s", f"{commit}:{name}")).strip() or 0)
        if size > CONFIG_READ_LIMIT:
            raise GolfError(f"{name} at {commit[:12]}: {size:,} bytes, more than a configuration holds")
        text = _text(git(repo, "cat-file", "blob", f"{commit}:{name}"))
        if name == "pyproject.toml" and "[tool.golf" not in text:
            continue
        return name, text
    return None


__all__ = ["CONFIG_FILES", "Change", "check_repo", "config_at", "diff_changes", "exists_at", "extract_tree", "git",
           "merge_base", "resolve_commit"]
