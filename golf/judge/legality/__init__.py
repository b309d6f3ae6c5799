"""Static legality of the evaluation (spec 4.1, 4.5): is validation data scored before anything learns from it?

golf reads the code that runs (the shipped script, the code a self-extracting wrapper decodes, the
files the script `exec`s; Python 3.12 syntax included), never running any of it, and judges each
evaluation path by data flow (golf.judge.legality.judge). The run's logs say which paths ran.
Where the code cannot be followed the result says so (kind "unfollowed"): never an empty answer
for code golf could not read.
"""

from __future__ import annotations

from pathlib import Path

from golf.judge.legality.judge import Finding, Program
from golf.judge.legality.runlog import RunLog

# Files read for analysis are bounded: no real script or log is near these sizes.
SOURCE_LIMIT = 4_000_000
LOG_LIMIT = 32_000_000


def check_source(source: str, file: str = "train_gpt.py", run: RunLog | None = None) -> list[Finding]:
    """The legality findings of one script's text (the logs, when given, say which paths ran)."""
    from golf.read.pyparse import parse

    return _judge(parse(source), file, run or RunLog())


def _judge(parsed, file: str, run: RunLog) -> list[Finding]:
    if parsed.tree is None:
        return [Finding("unfollowed", file, None, None,
                        f"{file} cannot be parsed ({parsed.problem}), so golf cannot judge whether it trains on "
                        "validation tokens before scoring them")]
    try:
        return Program(parsed.tree, file, run).judge()
    except RecursionError:
        return [Finding("unfollowed", file, None, None,
                        f"{file} nests too deeply for golf to follow, so whether it trains on validation tokens "
                        "before scoring them is not judged")]


def code_that_runs(script: str, text: str, folder: Path) -> tuple[list[tuple[str, object]], list[Finding]]:
    """(file label, parsed source) for the script, the code its wrapper decodes and the files it execs."""
    from golf.read.packed import exec_files, is_wrapper, unpack
    from golf.read.pyparse import parse

    units: list[tuple[str, object]] = []
    problems: list[Finding] = []
    todo = [(script, text)]
    seen: set[str] = set()
    while todo:
        name, source = todo.pop(0)
        if name in seen:
            continue
        seen.add(name)
        if is_wrapper(source.encode("utf-8", "surrogatepass")):
            unpacked = unpack(source)
            if unpacked.text is None:
                problems.append(Finding("unfollowed", name, None, 1,
                                        f"{name} is a self-extracting wrapper golf cannot decode "
                                        f"({unpacked.problem}): the code that runs is not judged"))
            else:
                todo.append((f"{name} (unpacked)", unpacked.text))
            continue
        parsed = parse(source)
        units.append((name, parsed))
        if parsed.tree is None:
            continue
        for other in exec_files(source, folder, script, parsed.tree):
            path = folder / other
            try:
                if path.stat().st_size > SOURCE_LIMIT:
                    raise OSError("too large to read")
                todo.append((other, path.read_text(encoding="utf-8")))
            except (OSError, UnicodeDecodeError) as error:
                problems.append(Finding("unfollowed", name, None, None,
                                        f"{name} execs {other}, which golf cannot read ({error}): the code "
                                        "that runs is not judged"))
    return units, problems


def run_log(folder: Path, log_paths: list[str]) -> RunLog:
    texts = {}
    for rel in log_paths:
        try:
            path = folder / rel
            if path.stat().st_size <= LOG_LIMIT:
                texts[rel] = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return RunLog.from_texts(texts)


def analyse(script: str, text: str, folder: Path, log_paths: list[str]) -> list[Finding]:
    """Legality findings for a record folder's script, judged against its logs."""
    run = run_log(folder, log_paths)
    units, findings = code_that_runs(script, text, folder)
    for name, parsed in units:
        findings.extend(_judge(parsed, name, run))
    return findings


__all__ = ["Finding", "analyse", "check_source", "code_that_runs", "run_log"]
