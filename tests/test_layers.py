"""The house plan's import direction holds (ARCHITECTURE.md): read -> rules -> judge -> produce -> render,
cli imports the rest lazily, data and reference stand apart, the static path never imports torch."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLF = REPO / "golf"
LAYERS = ("read", "rules", "judge", "produce", "render")
# Small shared modules every room may use (errors, strict I/O, the progress bar).
SHARED = {"golf", "golf.errors", "golf.io", "golf.progress"}


def modules():
    for path in sorted(GOLF.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(path: Path, top_level_only: bool = False):
    """(module imported, line) for each absolute import of golf in the file (lazy ones too, unless asked)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            if name == "golf" or name.startswith("golf."):
                yield name, node.lineno


def room(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else None


def test_imports_run_one_way():
    wrong = []
    for name, path in modules():
        mine = room(name)
        if mine not in LAYERS:
            continue
        for other, line in imports(path):
            theirs = room(other)
            if theirs == "cli" or (theirs in LAYERS and LAYERS.index(theirs) > LAYERS.index(mine)):
                wrong.append(f"{name}:{line} imports {other}")
    assert wrong == []


def test_cli_imports_the_rest_lazily():
    eager = [f"{name}:{line} imports {other}" for name, path in modules() if room(name) == "cli"
             for other, line in imports(path, top_level_only=True)
             if other not in SHARED and room(other) != "cli"]
    assert eager == []


def test_data_and_reference_stand_apart():
    leaks = [f"{name}:{line} imports {other}" for name, path in modules() if room(name) in ("data", "reference")
             for other, line in imports(path) if other not in SHARED and room(other) != room(name)]
    assert leaks == []
    # the reference trainer is the template of every record: it imports nothing of golf at all
    assert list(imports(GOLF / "reference" / "train_gpt.py")) == []


def test_the_static_path_never_imports_torch(tmp_path):
    record = next((REPO / "records" / "track_smoke").glob("*_ReferenceBaseline"))
    code = f"""
import sys
from golf.cli import main
record = {str(record)!r}
for argv in (["verify", record, "--json"], ["logs", record + "/train_seed42.log", "--json"],
             ["stats", "--values", "1.1", "1.2", "--sota", "1.3", "--json"],
             ["submit", record, "--dry-run", "--format", "json"], ["leaderboard", "--json"], ["rules"]):
    main(argv)
assert "torch" not in sys.modules, "torch was imported"
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
