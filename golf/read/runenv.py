"""What a run's settings were, read from the log, and what a record's `run` block would set.

The reference trainer (like the challenge baseline) prints its configuration as `key:value`
words (`iterations:120 train_seq_len:128 ...`). `LOGGED_KNOBS` names the printed keys that are
plain copies of one environment variable, so the log says what that variable was. Printed keys
that are derived (`embed_lr` is TIED_EMBED_LR when embeddings are tied) are left out on purpose.

The script's defaults come from its text: `os.environ.get("NAME", <literal>)` read with `ast`,
never by running it. Nothing here imports torch or executes record code.
"""

from __future__ import annotations

import ast
import math
import re
import shlex

# printed key -> the environment variable it is a copy of
LOGGED_KNOBS = {
    "iterations": "ITERATIONS",
    "warmup_steps": "WARMUP_STEPS",
    "train_batch_tokens": "TRAIN_BATCH_TOKENS",
    "train_seq_len": "TRAIN_SEQ_LEN",
    "max_wallclock_seconds": "MAX_WALLCLOCK_SECONDS",
    "num_heads": "NUM_HEADS",
    "num_kv_heads": "NUM_KV_HEADS",
    "tie_embeddings": "TIE_EMBEDDINGS",
    "matrix_lr": "MATRIX_LR",
    "scalar_lr": "SCALAR_LR",
}
# Set per seed by whoever launches a run; never part of a record's fixed environment.
PER_RUN = ("SEED", "RUN_ID")

_NPROC = re.compile(r"--nproc[_-]per[_-]node(?:=|\s+)(\d+)")


def script_defaults(source: str | None) -> dict[str, str]:
    """NAME -> default for every `os.environ.get("NAME", literal)` in a script's text (unparsable: empty)."""
    if not source:
        return {}
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    defaults = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and len(node.args) == 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            continue
        owner = node.func.value
        if not (isinstance(owner, ast.Attribute) and owner.attr == "environ"):
            continue
        try:
            value = ast.literal_eval(node.args[1])
        except ValueError:
            continue  # a computed default (another knob, a device test): unknown statically
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            defaults[node.args[0].value] = str(value)
    return defaults


def logged_env(config: dict[str, str]) -> dict[str, str]:
    """The environment variables a run's printed configuration shows, as NAME -> printed value."""
    return {name: config[key] for key, name in LOGGED_KNOBS.items() if key in config}


def same_value(a: str, b: str) -> bool:
    """Whether two settings mean the same: numbers by value (`0` == `0.000`), booleans as 0/1."""
    return _canonical(a) == _canonical(b)


def _canonical(value: str):
    text = str(value).strip()
    if text in ("True", "False"):
        return float(text == "True")
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def disagreements(config: dict[str, str], env: dict[str, str], defaults: dict[str, str]) -> list[tuple[str, str, str]]:
    """(NAME, what env/defaults would set, what the log shows) for each printed knob that differs.

    A knob absent from `env` runs at the script's default; when that default is not a literal, the
    knob cannot be judged and is skipped.
    """
    out = []
    for name, logged in logged_env(config).items():
        expected = env.get(name, defaults.get(name))
        if expected is not None and not same_value(expected, logged):
            out.append((name, expected, logged))
    return out


def derive_env(config: dict[str, str], defaults: dict[str, str]) -> dict[str, str]:
    """The run.env that reproduces the printed knobs: each one that differs from the script's default."""
    env = {}
    for name, logged in logged_env(config).items():
        default = defaults.get(name)
        if default is None or not same_value(default, logged):
            env[name] = _plain(logged)
    return env


def _plain(value: str) -> str:
    """A printed value as an environment value the script parses (`True` -> `1`, `0.000` -> `0`)."""
    if value in ("True", "False"):
        return "1" if value == "True" else "0"
    try:
        number = float(value)
    except ValueError:
        return value
    return str(int(number)) if number.is_integer() and "e" not in value.lower() else value


def command_nproc(command) -> int | None:
    """The process count in a torchrun command (`--nproc_per_node=N`), or None."""
    if isinstance(command, list):
        command = shlex.join(str(word) for word in command)
    match = _NPROC.search(str(command or ""))
    return int(match.group(1)) if match else None


def command_is_multinode(command) -> bool:
    text = shlex.join(str(w) for w in command) if isinstance(command, list) else str(command or "")
    return any(flag in text for flag in ("--nnodes", "--rdzv", "--master"))


__all__ = ["LOGGED_KNOBS", "PER_RUN", "command_is_multinode", "command_nproc", "derive_env", "disagreements",
           "logged_env", "same_value", "script_defaults"]
