"""Hypothesis strategies for hostile inputs to golf: log lines, submission.json documents, record
folders, artifacts and numeric options. Used by tests/test_fuzz.py (a few hundred cases, in CI) and
benchmarks/fuzz_bench.py (the same strategies, many more cases)."""

from __future__ import annotations

import json
import os
import stat
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import strategies as st

# ---- log lines ---------------------------------------------------------------------------------

NUMERALS = ["0", "1", "-1", "1.5", "2.03382277", "1e999", "-1e-3", "nan", "inf", "-inf", "NaN", "Infinity",
            "9" * 5000, "1." + "1" * 400, "0.0", "1e308", "00000000001", "1/2", "+7"]
FRAGMENTS = ["val_loss:", "val_bpb:", "step:", "/", " train_time:", "ms", " step_avg:", "stopping_early: ",
             "artifact:", "MB", " code:", "budget:", "Serialized model int8+zlib: ", " bytes",
             "Total submission size int8+zlib: ", "Code size: ", " model: ", " | Total submission: ",
             "MB model + ", "MB code = ", "from a import ", "import ", "Hyperparameters:", "--- Hyperparameters",
             "Source code:", "=" * 100, "| ", " On ", " Off ", "seed:", "world_size:", " stride:", " eval_time:",
             "sliding ", "[rank0]: ", "1700000000.5 ", "peak memory allocated: ", " MiB", "total_eval_time:",
             "Running Python 3.12", "Running PyTorch 2.5", "final_int8_zlib_roundtrip_exact ", "\t", ",", "#",
             '"""', "\r", "\ufeff", "x", "A=", "é", "\x00", "\udcff", "  KEY: ", "warmup_step:", "temp_scaling "]


def spaces() -> st.SearchStrategy[str]:
    """Runs of blanks, now and then long ones: the shape quadratic regexes choke on."""
    return st.one_of(st.integers(0, 8), st.integers(1000, 30_000)).map(lambda n: " " * n)


def log_lines() -> st.SearchStrategy[str]:
    part = st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(NUMERALS), spaces(), st.text(max_size=8))
    return st.lists(part, max_size=10).map("".join)


def log_texts() -> st.SearchStrategy[str]:
    return st.lists(log_lines(), max_size=25).map("\n".join)


# ---- submission.json ---------------------------------------------------------------------------

KEYS = ["name", "author", "github_id", "date", "track", "blurb", "val_bpb", "val_loss", "val_bpb_std", "seeds",
        "seed_results", "runs", "bytes_total", "bytes_code", "bytes_model", "artifact_bytes", "run", "env",
        "command", "score", "label", "log", "seed", "mean_val_bpb", "code_bytes", "bytes_model_int6",
        "reproductions", "by", "source"]

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                         st.sampled_from(["1.2", "seed42", "s7", "10min_16mb", "2026-05-01", ""]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), inner, max_size=5)),
    max_leaves=20)

RAW_DOCUMENTS = ['{"seeds": [NaN]}', '{"seeds": [Infinity]}', "[" * 10_000 + "]" * 10_000,
                 '{"val_bpb": 1' + "0" * 5001 + "}", '{"val_bpb": 1.' + "1" * 400 + "}", '{"val_bpb": 1e999}',
                 '{"a": "\\ud800"}', '{"val_bpb": 1.2', "", "   ", "null", "\xff\xfe{}", '{"a":' * 3000,
                 '{"run": {"env": {"A=B": "1", "C": "x\\u0000y", "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD": "1"}}}',
                 '{"reproductions": [{"log": "train.log", "by": "x"}, {"log": "../../etc/passwd", "by": "y"}, 7]}']


def submission_texts() -> st.SearchStrategy[str]:
    generated = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8).map(
        lambda d: json.dumps(d, allow_nan=True))
    return st.one_of(generated, st.sampled_from(RAW_DOCUMENTS))


# ---- record folders ----------------------------------------------------------------------------

SCRIPTS = [b"import os\nprint('hi')\n", b"# -*- coding: utf-7 -*-\nx = 1 +AAo-import os\n",
           b"# coding: no-such-codec\nx = 1\n", b"def f(:\n", b"\xff\xfe\x00garbage", b"",
           b"\xef\xbb\xbf# coding: latin-1\nx = 1\n", b"x = '" + b"a" * 100_000 + b"'\n"]
LOG_NAMES = [b"train.log", b"train_seed42.log", b"logs/seed 7/run.txt", b"train_\xff.log", b"s1.log", b"notes.txt"]
# What a name in the folder can be besides a plain file.
SPECIALS = ["fifo", "link_outside", "dangling_link", "link_to_dev_zero", "folder", "deep_folders", "link_inside"]


@dataclass
class FolderPlan:
    submission: str | None
    submission_kind: str = "file"          # or one of SPECIALS
    script: bytes | None = None
    script_kind: str = "file"
    logs: dict[bytes, str] = field(default_factory=dict)
    extras: list[tuple[bytes, str]] = field(default_factory=list)   # (name, special kind)


@st.composite
def folder_plans(draw) -> FolderPlan:
    return FolderPlan(
        submission=draw(st.one_of(st.none(), submission_texts())),
        submission_kind=draw(st.sampled_from(["file"] * 6 + SPECIALS)),
        script=draw(st.one_of(st.none(), st.sampled_from(SCRIPTS))),
        script_kind=draw(st.sampled_from(["file"] * 6 + ["link_outside", "fifo"])),
        logs=draw(st.dictionaries(st.sampled_from(LOG_NAMES), log_texts(), max_size=3)),
        extras=draw(st.lists(st.tuples(st.sampled_from([b"x.log", b"sub", b"submission.json.bak", b"README.md",
                                                        b"final_model.int8.ptz"]),
                                       st.sampled_from(SPECIALS)), max_size=3, unique_by=lambda e: e[0])),
    )


def make_special(path: bytes, kind: str, outside: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "link_outside":
        os.symlink(os.fsencode(outside / "target.txt"), path)
    elif kind == "dangling_link":
        os.symlink(os.fsencode(outside / "missing" / "nothing"), path)
    elif kind == "link_to_dev_zero":
        os.symlink(b"/dev/zero", path)
    elif kind == "folder":
        os.mkdir(path)
    elif kind == "deep_folders":
        current = path
        for _ in range(60):
            os.mkdir(current)
            current += b"/d"
    elif kind == "link_inside":
        os.symlink(b".", path)


def build_folder(plan: FolderPlan, folder: Path, outside: Path) -> None:
    """Write the planned record folder. `outside` holds a file links may point at."""
    folder.mkdir(parents=True)
    root = os.fsencode(folder)

    def put(name: bytes, data: bytes | None, kind: str) -> None:
        path = root + b"/" + name
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if kind == "file":
            if data is not None:
                with open(path, "wb") as handle:
                    handle.write(data)
        else:
            make_special(path, kind, outside)

    if plan.submission is not None or plan.submission_kind != "file":
        put(b"submission.json", (plan.submission or "").encode("utf-8", "surrogatepass"), plan.submission_kind)
    if plan.script is not None:
        put(b"train_gpt.py", plan.script, plan.script_kind)
    for name, text in plan.logs.items():
        put(name, text.encode("utf-8", "surrogatepass"), "file")
    for name, kind in plan.extras:
        if not os.path.lexists(root + b"/" + name):
            put(name, None, kind)


def snapshot(top: Path) -> dict[bytes, tuple]:
    """Every entry under `top` without following links or opening special files: what it is and holds."""
    state = {}
    stack = [os.fsencode(top)]
    while stack:
        folder = stack.pop()
        for entry in os.scandir(folder):
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISLNK(info.st_mode):
                state[entry.path] = ("link", os.readlink(entry.path))
            elif stat.S_ISDIR(info.st_mode):
                state[entry.path] = ("dir",)
                stack.append(entry.path)
            elif stat.S_ISREG(info.st_mode):
                with open(entry.path, "rb") as handle:
                    state[entry.path] = ("file", handle.read())
            else:
                state[entry.path] = ("special", stat.S_IFMT(info.st_mode))
    return state


# ---- artifacts and options ---------------------------------------------------------------------

def artifact_bytes() -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=200),
        st.binary(max_size=2000).map(zlib.compress),
        st.integers(1, 40).map(lambda mb: zlib.compress(b"\0" * (mb * 1_000_000), 9)),   # bombs
        st.sampled_from([b"", b"x\x9c", zlib.compress(b"PK\x03\x04not a torch file")]),
    )


def option_numbers() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(NUMERALS + ["-1e-3", "1e-3", "-0", "1_000", " 1", "0x10", "", "-"]),
                     st.floats(allow_nan=True, allow_infinity=True).map(repr))


# ---- git trees ---------------------------------------------------------------------------------

TREE_NAMES = ["s", "a", "README.md", "train.log", "..", ".", "a b", "\udcff", "sub"]
# A leaf is ("blob", bytes) or ("link", target); a folder is ("tree", [(name, node), ...]).
tree_leaves = st.one_of(st.tuples(st.just("blob"), st.binary(max_size=20)),
                        st.tuples(st.just("link"), st.sampled_from(["OUTSIDE", "..", "../..", "/", "a", "s/.."])))
tree_nodes = st.recursive(tree_leaves, lambda inner: st.tuples(
    st.just("tree"), st.lists(st.tuples(st.sampled_from(TREE_NAMES), inner), min_size=1, max_size=4)), max_leaves=8)


def git_trees() -> st.SearchStrategy[list]:
    """The entries of a record folder in a pull request: names may repeat (git can hold a link `s` and a
    folder `s/` at once), links may point anywhere."""
    return st.lists(st.tuples(st.sampled_from(TREE_NAMES), tree_nodes), min_size=1, max_size=5)
