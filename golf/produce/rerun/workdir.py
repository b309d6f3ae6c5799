"""The rerun work directory: fresh per-seed copies of the record, and the state that lets a rerun resume.

    <workdir>/rerun_state.json       seeds already completed, with the record's content hash and the options
    <workdir>/seed<SEED>/            a fresh copy of the record folder (previous outputs left out)
    <workdir>/seed<SEED>/rerun.log   everything the launched processes printed
    <workdir>/seed<SEED>/logs/<RUN_ID>.txt, final_model.int8.ptz   what the record's script wrote
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from golf.errors import GolfError
from golf.io import atomic_write_text, dumps_json, sha256_file
from golf.read.workdirs import MARKER_NAME, WORKDIR_NAME  # the readers that skip rerun copies know them too

STATE_NAME = "rerun_state.json"
RERUN_LOG = "rerun.log"
ARTIFACT_NAME = "final_model.int8.ptz"


def say(console, text: str) -> None:
    """One plain line for the user: no rich markup (paths may hold brackets), no wrapping."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def record_hash(record_dir: Path) -> str:
    """sha256 over the relative path and content of every file a rerun copies."""
    digest = hashlib.sha256()
    for rel, source in copied_files(record_dir):
        digest.update(f"{rel}\0{sha256_file(source)}\n".encode())
    return digest.hexdigest()


def _is_output(rel: Path) -> bool:
    """What earlier runs wrote (logs, checkpoints, artifacts): never copied, so a rerun starts clean."""
    return (rel.parts[0] == "logs" or rel.suffix in (".ptz", ".pt", ".log")
            or "__pycache__" in rel.parts or ".git" in rel.parts)


def copied_files(record_dir: Path) -> list[tuple[str, Path]]:
    """(relative path, file) for what goes into a fresh copy: not previous outputs, no link leaving the folder."""
    files = []
    for dirpath, dirnames, filenames in os.walk(record_dir):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            rel = path.relative_to(record_dir)
            if _is_output(rel):
                continue
            if path.is_symlink():
                target = path.resolve()
                if not target.is_file() or not target.is_relative_to(record_dir):
                    continue
            if path.is_file():
                files.append((rel.as_posix(), path))
    return files


def resolve_workdir(record_dir: Path, workdir=None) -> Path:
    path = Path(workdir) if workdir is not None else Path.cwd() / WORKDIR_NAME / record_dir.name
    path = path.resolve()
    if path == record_dir or path.is_relative_to(record_dir):
        raise GolfError(f"work directory {path} is inside the record folder {record_dir}; "
                        "a rerun never writes into the record (choose another --workdir)")
    return path


def _fresh_copy(record_dir: Path, seed_dir: Path) -> None:
    if seed_dir.exists():
        if not (seed_dir / MARKER_NAME).exists():
            raise GolfError(f"{seed_dir} exists and was not made by golf; refusing to replace it "
                            "(choose another --workdir)")
        shutil.rmtree(seed_dir)
    seed_dir.mkdir(parents=True)
    (seed_dir / MARKER_NAME).write_text("made by golf verify --rerun; replaced on the next rerun\n")
    for rel, source in copied_files(record_dir):
        target = seed_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def _load_state(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(state.get("completed"), dict):
        return None
    entries = state["completed"].values()
    if not all(isinstance(e, dict) and isinstance(e.get("log"), str) for e in entries):
        return None
    return state


def _save_state(path: Path, state: dict) -> None:
    atomic_write_text(path, dumps_json(state, indent=2, sort_keys=True) + "\n", backup=False)


def _has_score(log_path: Path, ruleset, submission) -> bool:
    """Whether the seed's log holds the score verify will take (the record's score_label counts)."""
    from golf.judge.facts import score_of
    from golf.read.logs import parse_log

    return score_of(parse_log(log_path).run, ruleset, submission) is not None


def _resume_state(state_path: Path, fingerprint: dict, console) -> dict:
    fresh = {"golf_rerun_state": 1, **fingerprint, "completed": {}}
    old = _load_state(state_path)
    if old is None or not old["completed"]:
        return fresh
    if old.get("record_sha256") != fingerprint["record_sha256"]:
        say(console, f"the record folder changed since the earlier rerun in {state_path.parent}; "
                      "starting over")
        return fresh
    changed = [k for k in fingerprint if old.get(k) != fingerprint[k]]
    if changed:
        say(console, f"rerun options changed since the earlier rerun ({', '.join(changed)}); starting over")
        return fresh
    say(console, f"resuming: seed(s) {', '.join(sorted(old['completed']))} already completed")
    return {**fresh, "completed": old["completed"]}
