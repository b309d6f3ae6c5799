"""Reading a record's command: submission.json's `run` block, else the torchrun line of its README."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError

# torchrun options that take no value (every other option takes one, inline or as the next word).
TORCHRUN_FLAGS = {"--standalone", "--no-python", "--no_python", "--run-path", "--run_path", "-m", "--module"}

ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class LaunchSpec:
    """The record's own command: which script, its arguments, its environment, and where it came from."""

    script: str
    script_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    source: str = ""
    nproc: int | None = None      # the command's --nproc_per_node, when it gives one


# ---------------------------------------------------------------------------------------------
# Reading the record's command


def _logical_lines(text: str) -> list[str]:
    """Join backslash-continued lines; undo markdown escapes that some READMEs put in code blocks."""
    lines, current = [], ""
    for raw in text.splitlines():
        line = raw.replace("\\_", "_").rstrip()
        if line.endswith("\\\\"):
            line = line[:-1]
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    if current:
        lines.append(current)
    return lines


def _split(line: str) -> list[str] | None:
    # `2>&1` and `2>file`: the descriptor digits belong to the redirection, not to the command.
    line = re.sub(r"(?<!\S)\d+(?=>)", " ", line)
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError:
        return None


def expand(word: str, variables: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: variables.get(m.group(1) or m.group(2), m.group(0)), word)


def _is_launcher(words: list[str], i: int) -> int | None:
    """Index just after a torchrun launcher starting at words[i], or None."""
    word = words[i]
    if word == "torchrun" or word.endswith("/torchrun"):
        return i + 1
    if Path(word).name.startswith("python") and words[i + 1:i + 3] == ["-m", "torch.distributed.run"]:
        return i + 3
    return None


def parse_command_line(line: str, variables: dict[str, str] | None = None) -> LaunchSpec | None:
    """Parse one shell command line `VAR=x ... torchrun [opts] script.py [args]`; None if it is not one."""
    words = _split(line)
    if not words:
        return None
    variables = dict(variables or {})
    env: dict[str, str] = {}
    i = 0
    while i < len(words) and (m := ASSIGNMENT.match(words[i])):
        env[m.group(1)] = expand(m.group(2), {**variables, **env})
        i += 1
    start = _is_launcher(words, i) if i < len(words) else None
    if start is None:
        return None
    i = start
    nproc = None
    while i < len(words) and words[i].startswith("-"):
        option = words[i]
        i += 1
        name, _, value = option.partition("=")
        if option not in TORCHRUN_FLAGS and "=" not in option:
            value = words[i] if i < len(words) else ""
            i += 1  # the option's value is the next word
        if name.replace("_", "-") == "--nproc-per-node" and value.isdigit():
            nproc = int(value)
    if i >= len(words) or not words[i].endswith(".py"):
        return None
    script = words[i]
    args = []
    for word in words[i + 1:]:
        if word and set(word) <= set("();<>|&"):
            break  # a redirection or a pipe ends the command
        args.append(expand(word, {**variables, **env}))
    return LaunchSpec(script=script, script_args=args, env=env, nproc=nproc)


def _fenced_blocks(text: str) -> list[str]:
    blocks, current, inside = [], [], False
    for line in text.splitlines():
        if FENCE.match(line):
            if inside:
                blocks.append("\n".join(current))
                current = []
            inside = not inside
        elif inside:
            current.append(line)
    return blocks


def readme_commands(text: str) -> list[LaunchSpec]:
    """Every torchrun command in the README's fenced code blocks, in order.

    `export VAR=x` lines earlier in the same block become environment; bare `VAR=x` lines are only
    used to expand `$VAR` in later lines, as a shell would.
    """
    found = []
    for block in _fenced_blocks(text):
        exported: dict[str, str] = {}
        variables: dict[str, str] = {}
        for line in _logical_lines(block):
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            words = _split(stripped) or []
            if words and words[0] == "export":
                for word in words[1:]:
                    if m := ASSIGNMENT.match(word):
                        exported[m.group(1)] = expand(m.group(2), {**variables, **exported})
                continue
            if words and all(ASSIGNMENT.match(w) for w in words):
                for word in words:
                    m = ASSIGNMENT.match(word)
                    variables[m.group(1)] = expand(m.group(2), {**variables, **exported})
                continue
            spec = parse_command_line(stripped, {**variables, **exported})
            if spec is not None:
                spec.env = {**exported, **spec.env}
                found.append(spec)
    return found


def _resolve_script(record_dir: Path, script: str) -> str | None:
    """The script's path relative to the record folder, trying the path as written, its tail, its name."""
    parts = Path(script).parts
    for k in range(len(parts)):
        candidate = Path(*parts[k:])
        if not candidate.is_absolute() and (record_dir / candidate).is_file():
            return candidate.as_posix()
    return None


def launch_spec(record) -> LaunchSpec:
    """The record's command: submission.json's `run` block, else the README's torchrun command."""
    root = Path(record.root)
    submission = getattr(record, "submission", None)
    raw = getattr(submission, "raw", None) or {}
    run = raw.get("run") if isinstance(raw, dict) else None
    if isinstance(run, dict) and run.get("command"):
        command = run["command"]
        line = shlex.join(str(w) for w in command) if isinstance(command, list) else str(command)
        spec = parse_command_line(" ".join(_logical_lines(line)))
        if spec is None:
            raise GolfError(f"{root / 'submission.json'}: the run command {line!r} is not a torchrun "
                            "command with a .py script (expected `torchrun ... train_gpt.py`)")
        env = run.get("env") or {}
        if not isinstance(env, dict):
            raise GolfError(f"{root / 'submission.json'}: run.env must be an object of NAME: value")
        spec.env.update({str(k): str(v) for k, v in env.items()})
        spec.source = "submission.json run block"
        candidates = [spec]
    else:
        candidates = readme_commands(getattr(record, "readme", None) or "")
        for spec in candidates:
            spec.source = "README.md command block"
        if not candidates:
            raise GolfError(f"{root}: no command to rerun: submission.json has no `run` block and the "
                            "README has no fenced code block with a `torchrun ... train_gpt.py` line")
    resolved = [(spec, _resolve_script(root, spec.script)) for spec in candidates]
    resolved = [(spec, script) for spec, script in resolved if script]
    if not resolved:
        names = ", ".join(sorted({spec.script for spec in candidates}))
        raise GolfError(f"{root}: the command's script ({names}) is not a file in the record folder")
    # Prefer the standard script name when a README shows several commands.
    spec, script = next(((s, p) for s, p in resolved if Path(p).name == "train_gpt.py"), resolved[0])
    spec.script = script
    return spec
