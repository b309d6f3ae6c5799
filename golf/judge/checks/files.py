"""G1xx: what the record folder holds (spec 4.1 "PR contents", 5.11 folder hygiene)."""

from __future__ import annotations

from pathlib import PurePosixPath

from golf.judge.findings import Hit, rule
from golf.judge.facts import SOURCE_OMITTED
from golf.read.records import REQUIRED_IDENTITY

# Files that look like something a script needs at run time (spec 3.4: tokenizer
# models, helper modules, C++ kernels), beyond the counted script.
# A script larger than this is not compiled (size-over-cap says what matters about it).
COMPILE_LIMIT = 20_000_000
RUNTIME_SUFFIXES = {".py", ".model", ".vocab", ".cpp", ".cc", ".c", ".h", ".hpp", ".cu", ".cuh", ".so",
                    ".pyx", ".sh", ".pt", ".ptz", ".bin", ".npy", ".npz", ".safetensors"}


@rule("G000", "internal-error", "error", "A check crashed on this folder; the verdict cannot be trusted until fixed.")
def internal_error(ctx):
    """golf itself failed while judging this folder; the other folders are still judged.

    Why: a bug in golf must never hide findings or print a traceback.
    How to fix: nothing in the record; report the message to golf's maintainers.
    """
    # Emitted by golf.judge.checks.run_rules when another check raises; registered so it can be listed and ignored.
    return ()


@rule("G099", "not-a-record", "error", "A path given to golf verify that is not a record folder verifies nothing.")
def not_a_record(ctx):
    """A path given on the command line does not exist, is not a folder, or holds no record folder
    (a record folder holds a README.md, a submission JSON, train_gpt.py or a log golf can read).

    Why: a batch reports every path it was given; this one is bad input (exit status 2), the others
    are still judged.
    How to fix: give record folders, or folders of record folders (e.g. records/).
    """
    # Emitted by golf.judge.verify.verify_paths for a path that is not a record folder.
    return ()


@rule("G100", "unreadable-record", "error", "A folder golf cannot read cannot be verified.")
def unreadable_record(ctx):
    """The record folder could not be read at all (permissions, a broken file system, not a folder).

    Why: nothing can be verified without the folder's files.
    How to fix: make the folder and its files readable and verify again.
    """
    # Emitted by golf.judge.verify when the folder itself cannot be loaded.
    return ()


@rule("G101", "missing-readme", "error", "A record must explain itself in README.md.")
def missing_readme(ctx):
    """The ruleset's [files] required list names README.md: it explains the submission, how to run it and
    what it scored. Fix: add a README.md (golf verify finds it case-insensitively)."""
    if "README.md" in ctx.ruleset.required_files and ctx.record.readme_path is None:
        named = sorted(f for f in ctx.record.files if "/" not in f and f.lower().endswith("readme.md"))
        if named:  # e.g. v2_README.md: the README is there, under another name
            yield Hit(f"no README.md, but {named[0]} reads like one: rename it to README.md", named[0],
                      paperwork="readme-name")
        else:
            yield Hit("no README.md: add one explaining the submission, its command and its results")


@rule("G102", "missing-submission", "error", "submission.json carries the claim that is verified.", group="claim")
def missing_submission(ctx):
    """The ruleset's [files] required list names submission.json: the claim that is verified. Fix: run
    `golf submit RECORD_DIR`, which writes it from what golf verify verified."""
    if "submission.json" in ctx.ruleset.required_files and ctx.record.submission is None \
            and not ctx.record.submission_problems:
        yield Hit("no submission.json (nor submission_*.json): write one with `golf submit`")


@rule("G103", "invalid-submission", "error",
      "A submission JSON that cannot be read, or lacks name, author, github_id or val_bpb, states no usable claim.",
      group="claim")
def invalid_submission(ctx):
    """submission.json is not valid JSON or lacks what a submission must state.

    Why: a reviewer and the leaderboard read identity and the claim from it.
    How to fix: fix the JSON (the message names the problem), or regenerate it with `golf submit`.
    """
    record = ctx.record
    submission = record.submission
    if submission is None:
        for problem in record.submission_problems or []:
            yield Hit(problem, _json_file(problem))
        return
    raw = submission.raw
    missing = [key for key in (*REQUIRED_IDENTITY, "val_bpb") if getattr(submission, key) is None]
    if missing:
        extra = ""
        if submission.val_bpb is None and submission.val_loss is not None:
            extra = f" (its `val_loss` {raw.get('val_loss')} may be the bpb mean)"
        yield Hit(f"{submission.path} lacks {', '.join(missing)}{extra}", submission.path)


@rule("G113", "submission-oddity", "warning",
      "Loosely typed or renamed submission fields make the claim ambiguous; golf reads them but says so.", group="claim")
def submission_oddity(ctx):
    """submission.json has keys or values that are unusual (aliases, strings for numbers, placeholders).

    Why: the file is read by people and tools; oddities are easy to misread.
    How to fix: use the usual keys and plain numbers (`golf submit` writes them).
    """
    submission = ctx.record.submission
    if submission is None:
        return
    for problem in ctx.record.submission_problems or []:
        if "no val_bpb" in problem:
            continue  # reported by invalid-submission
        yield Hit(problem, submission.path)


def _json_file(problem: str) -> str | None:
    head = problem.split(":", 1)[0]
    return head if head.endswith(".json") else None


@rule("G104", "missing-script", "error", "The score cannot be reproduced or its code bytes counted without the script.")
def missing_script(ctx):
    """The folder holds no script golf can take for the one that ran: no train_gpt.py (the ruleset's [files]
    required name), and neither a top-level .py file whose text the logs embed nor a single top-level .py file.
    Without it the logs cannot be compared with the code, the code bytes cannot be counted and the record cannot
    be rerun. Fix: ship the exact script that wrote the logs."""
    wanted = ctx.ruleset.code_bytes_policy.script
    if wanted in ctx.ruleset.required_files and ctx.script_name is None:
        others = [s for s in (ctx.record.scripts or []) if s != wanted]
        hint = (f" (other scripts: {', '.join(others)}; none is embedded in a log, so golf cannot tell which ran)"
                if others else "")
        yield Hit(f"no {wanted} in the folder{hint}: the record's code cannot be counted, compared with the "
                  "logs or rerun")


@rule("G117", "script-named-otherwise", "warning", "The challenge asks for the counted code in train_gpt.py.")
def script_named_otherwise(ctx):
    """The script that ran is shipped under another name (train_gpt_cuda_ternary.py, train_jepa_ssm.py): golf
    takes the top-level .py file the logs embed, or the folder's only one, counts its bytes and compares it with
    the logs. The maintainers accepted such folders; the README asks for train_gpt.py.
    Fix: rename the script to train_gpt.py (and the command in the README)."""
    wanted = ctx.ruleset.code_bytes_policy.script
    if wanted in ctx.ruleset.required_files and ctx.script_name not in (None, wanted):
        yield Hit(f"the script that ran is {ctx.script_name}, not {wanted}: golf judges it as the record's "
                  f"script; rename it to {wanted}", ctx.script_name)


@rule("G105", "missing-logs", "error", "Claims must be backed by the logs the script wrote.")
def missing_logs(ctx):
    """The folder has no training log.

    Why: claims must be backed by the logs the script wrote, one per run.
    How to fix: add the log of every run (train_seed<SEED>.log).
    """
    if not ctx.record.logs:
        yield Hit(f"no training log in the folder (at least {ctx.ruleset.min_logs} required)")


@rule("G106", "script-syntax-error", "error", "A script that does not compile cannot have produced the logs.")
def script_syntax_error(ctx):
    """The shipped script does not compile.

    Why: a script that does not compile cannot have produced the logs.
    How to fix: ship the exact script that ran; if it uses syntax newer than golf's Python, the finding is a note (see G114).
    """
    if ctx.script_text is None or ctx.script_name is None:
        return
    if len(ctx.script_text) > COMPILE_LIMIT:
        return  # far over any byte cap already; not worth compiling
    problem = compile_problem(ctx.script_text)
    if problem is None:
        return
    if problem["syntax"]:
        if _newer_python(ctx) is None:
            yield Hit(f"{ctx.script_name} does not compile: {problem['message']} (line {problem['line']})",
                      ctx.script_name, problem["line"])
    else:
        yield Hit(f"{ctx.script_name} does not compile: {problem['message']}", ctx.script_name)


def compile_problem(text: str) -> dict | None:
    """Why the script does not compile ({syntax, message, line}), None when it does; remembered by its bytes."""
    from golf.cache import cached

    def check():
        try:
            compile(text, "<script>", "exec", dont_inherit=True)
        except SyntaxError as error:
            return {"syntax": True, "message": error.msg, "line": error.lineno}
        except (ValueError, RecursionError, MemoryError) as error:
            return {"syntax": False, "message": str(error), "line": None}
        return None

    return cached("compile", text.encode("utf-8", "surrogatepass"), check)


def _newer_python(ctx) -> str | None:
    """The Python version the logs say ran the script, when it is newer than golf's own."""
    import sys

    for r in ctx.logged:
        version = getattr(r.run, "python_version", None) if r.run is not None else None
        parts = tuple(int(p) for p in (version or "").split(".")[:2] if p.isdigit())
        if len(parts) == 2 and parts > sys.version_info[:2]:
            return version
    return None


@rule("G114", "syntax-newer-python", "info",
      "A script written for a newer Python than golf's cannot be syntax-checked here.")
def syntax_newer_python(ctx):
    """The shipped script does not compile with golf's Python, but its logs say a newer Python ran it.

    Python 3.12 accepts syntax 3.11 rejects (e.g. f-strings that nest the same quotes), so a
    script that ran on 3.12 is not judged by 3.11's grammar: G106 stays silent and this note
    says why the syntax was not checked.

    How to fix: nothing in the record; run golf on the Python the logs name to check the syntax.
    """
    if ctx.script_text is None or ctx.script_name is None or len(ctx.script_text) > COMPILE_LIMIT:
        return
    newer = _newer_python(ctx)
    if newer is None:
        return
    problem = compile_problem(ctx.script_text)
    if problem is not None and problem["syntax"]:
        import sys

        yield Hit(f"{ctx.script_name} does not compile on golf's Python {sys.version_info[0]}.{sys.version_info[1]} "
                  f"({problem['message']}, line {problem['line']}), but its logs say Python {newer} ran it: "
                  "syntax not checked", ctx.script_name, problem["line"])


@rule("G107", "empty-script", "error", "An empty script cannot have produced the logs.")
def empty_script(ctx):
    """The shipped train_gpt.py is empty.

    Why: an empty file is no record of the code that ran.
    How to fix: ship the script that wrote the logs.
    """
    if ctx.script_name is not None and ctx.script_size == 0:
        yield Hit(f"{ctx.script_name} is empty", ctx.script_name)


@rule("G108", "unreadable-file", "error", "A file golf cannot read cannot be checked.")
def unreadable_file(ctx):
    """A file of the folder could not be read.

    Why: a file golf cannot read cannot be checked.
    How to fix: fix the file's permissions or encoding.
    """
    for path, reason in ctx.record.skipped or []:
        if _kind(reason) == "unreadable":
            yield Hit(f"{path}: {reason}; not checked", path)
    if ctx.script_problem:
        yield Hit(ctx.script_problem, ctx.script_name)


@rule("G109", "symlink-outside", "error", "Content outside the record folder is not part of the submission.")
def symlink_outside(ctx):
    """A link in the folder points outside it.

    Why: a record must be self-contained; golf never follows links out of the folder.
    How to fix: replace the link with the file itself.
    """
    for path, reason in ctx.record.skipped or []:
        if _kind(reason) == "outside":
            yield Hit(f"{path}: {reason}; not followed", path)


def _kind(reason: str) -> str:
    """How golf.read.records' reason for skipping a path is reported."""
    text = reason.lower()
    if "leaving" in text or "outside" in text:
        return "outside"
    if text.startswith("tool folder"):
        return "ignored"  # .git, __pycache__: not part of a record, harmless
    return "unreadable"


@rule("G110", "extra-runtime-files", "warning",
      "Files a script needs at run time (helpers, tokenizers, kernels) are not counted in its code bytes.")
def extra_runtime_files(ctx):
    """The script needs files beside it (helpers, tokenizers, kernels) that no size line counts.

    Why: counted code should live in train_gpt.py; other runtime files can smuggle in bytes.
    How to fix: fold them into the script, count them, or explain them in the README for a reviewer.
    """
    if ctx.ruleset.code_bytes_policy.extra_runtime_files == "ignore":
        return
    logs = {log.path for log in ctx.record.logs}
    extras = []
    for name in ctx.record.files or []:
        pure = PurePosixPath(name)
        if name == ctx.script_name or name in logs or name == SOURCE_OMITTED:
            continue
        if pure.suffix.lower() in RUNTIME_SUFFIXES:
            extras.append(name)
    if extras:
        listed = ", ".join(extras[:12]) + (f" and {len(extras) - 12} more" if len(extras) > 12 else "")
        yield Hit(f"files beside {ctx.script_name or 'the script'} that may be needed at run time and are not "
                  f"counted in the code bytes: {listed}; a person must judge whether they carry code or data")


@rule("G111", "track-mismatch", "warning", "The folder and submission.json must agree on the track judged.")
def track_mismatch(ctx):
    """The track submission.json names differs from the track folder the record sits in.

    Why: the track decides the caps and whether significance applies.
    How to fix: move the folder or correct the `track` key.
    """
    if ctx.track_conflict:
        yield Hit(f"{ctx.track_conflict}; judged as {ctx.track.name} ({ctx.track_source})")


@rule("G112", "track-assumed", "info", "A record is judged against its track's limits; say which track it is.")
def track_assumed(ctx):
    """golf could not tell the record's track and judged it by the ruleset's default track.

    Why: caps and time limits depend on the track.
    How to fix: put the folder under records/<track>/ or state `track` in submission.json.
    """
    if ctx.track is not None and ctx.track_source == "ruleset default" and not ctx.track_conflict:
        yield Hit(f"neither the folder's parent nor submission.json names a track; judged as {ctx.track.name}")


@rule("G115", "script-not-utf8", "error",
      "Python decodes a script by its PEP 263 coding cookie; any encoding but UTF-8 can hide code from a reader.")
def script_not_utf8(ctx):
    encoding = getattr(ctx, "script_encoding", None)
    if encoding is not None and encoding not in ("utf-8", "utf-8-sig"):
        yield Hit(f"{ctx.script_name} declares the source encoding {encoding} (a PEP 263 coding cookie): "
                  "Python runs what that decoding shows, which a UTF-8 reading does not; golf read it as "
                  f"{encoding} and counts it as an error", ctx.script_name)
