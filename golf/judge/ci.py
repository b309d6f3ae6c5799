"""`golf ci`: judge a record pull request from git alone.

A record pull request passes when its change set (`git diff base...head`, i.e. from the merge base
to head) only adds files inside one new folder `records/<track>/<folder>/`, and that folder passes
static verification. The folder is read as committed at head, extracted from git objects into a
temporary directory (no checkout, no `.gitattributes` processing), so nothing in the working tree
matters and nothing from the pull request is ever imported or run.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from golf.read.git import (Change, exists_at, check_repo, config_at, diff_changes, extract_tree, merge_base,
                           resolve_commit)

RECORDS = "records"


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

        return [emit("G901", problem, getattr(problem, "path", None)) for problem in self.problems]


class Problem(str):
    """A change-set problem: its text, and the path it is about (for annotations), kept apart from the text."""

    path: str | None = None

    @classmethod
    def of(cls, text: str, path: str | None = None) -> "Problem":
        problem = cls(text)
        problem.path = path
        return problem


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
            problems.append(Problem.of(f"renames `{change.old_path}` to `{change.path}`", change.old_path))
            continue
        if change.status in verbs:
            problems.append(Problem.of(f"{verbs[change.status]} `{change.path}`", change.path))
            continue
        folder = _folder_of(change.path)
        if change.status not in ("A", "C") or folder is None:
            problems.append(Problem.of(f"adds `{change.path}` outside a record folder `{RECORDS}/<track>/<folder>/`"
                                       if change.status in ("A", "C") else f"changes `{change.path}` ({change.status})",
                                       change.path))
            continue
        if why := not_a_record_file(change.path):
            problems.append(Problem.of(f"adds `{change.path}`: {why}; remove it from the pull request "
                                       "(the .gitignore `golf new` puts in a record folder keeps such files out)",
                                       change.path))
        folders.setdefault(folder)
    new = []
    for folder in folders:
        track = folder.split("/")[1]
        if ruleset is not None and ruleset.find_track(track) is None:
            problems.append(Problem.of(f"`{RECORDS}/{track}/` is not a track of ruleset {ruleset.name} "
                                       f"(tracks: {', '.join(sorted(ruleset.tracks))})", f"{RECORDS}/{track}/"))
        if exists_at(repo, merge_base_commit, folder):
            problems.append(Problem.of(f"adds files to the existing record folder `{folder}` (a record folder is "
                                       "added once, in one pull request, and never changed)", folder))
        else:
            new.append(folder)
    if not changes:
        problems.append("the change set is empty")
    elif not new and not problems:
        problems.append("adds no new record folder")
    if len(new) > 1:
        problems.append(Problem.of(f"adds {len(new)} record folders ({', '.join(f'`{f}`' for f in new)}); "
                                   "a record pull request adds exactly one", new[0]))
    return new, problems


# ---------------------------------------------------------------------------------------------
# Reading the head tree without a checkout


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
