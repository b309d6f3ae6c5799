"""What golf reads from a record's script before anything of it runs, and the bounded artifact decompression."""

import importlib.util
import lzma
import subprocess
import sys
import zlib

import pytest

from family_scripts import family_script, wrap
from golf.errors import GolfError
from golf.produce.eval import decompress
from golf.produce.eval.script_check import describe_script, loadable_problem, read_source

INERT = '''"""doc"""
import os
try:
    from flash_attn_interface import flash_attn_func
except ImportError:
    flash_attn_func = None

class Hyperparameters:
    model_dim = int(os.environ.get("MODEL_DIM", 64))
    names = tuple(p for p in os.environ.get("PATTERNS", "a,b").split(",") if p)

@torch.no_grad()
def f(x, y=(1, 2)):
    return open(x).read()  # bodies are not run at import

if __name__ == "__main__":
    main()
'''


def test_an_inert_script_passes_and_is_described(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text(INERT)
    info = describe_script(path)
    assert not info.wrapped and not info.has_interface and not info.has_forward_logits
    assert info.env_names == ["MODEL_DIM", "PATTERNS"] and info.flash_attn
    assert loadable_problem(info) is None


@pytest.mark.parametrize("line, number, what", [
    ("main()", 3, "a call"),
    ("for step in range(10):\n    train(step)", 3, "a loop"),
    ("x = open('weights.bin').read()", 3, "a call in an assignment"),
    ("class Hyperparameters:\n    x = os.system('ls')", 4, "a call in an assignment"),
    ("@register(os.system('ls'))\ndef f():\n    pass", 3, "a call in a decorator"),
    ("with open('x') as f:\n    pass", 3, "a `with` block"),
])
def test_work_at_import_time_is_refused_with_its_line(tmp_path, line, number, what):
    path = tmp_path / "train_gpt.py"
    path.write_text("import os\n\n" + line + "\n")
    with pytest.raises(GolfError, match=f"line {number} does work at import time \\({what}"):
        describe_script(path)


def test_a_refused_script_is_never_run(tmp_path):
    marker = tmp_path / "ran.txt"
    path = tmp_path / "train_gpt.py"
    path.write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n")
    done = subprocess.run([sys.executable, "-m", "golf", "eval", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "refusing to evaluate: line 2" in done.stderr
    assert not marker.exists()


def test_a_wrapper_is_unpacked_as_data_and_its_inside_checked(tmp_path):
    source = family_script(forward_logits=True)
    path = tmp_path / "train_gpt.py"
    path.write_text(wrap(source))
    assert read_source(path) == (source, True)
    info = describe_script(path)
    assert info.wrapped and info.has_forward_logits and "Hyperparameters" in info.classes
    path.write_text(wrap("import os\nos.system('echo hi')\n"))
    with pytest.raises(GolfError, match="line 2 does work at import time"):
        describe_script(path)
    path.write_text('import lzma as L,base64 as B\nexec(L.decompress(B.b85decode("not base85 {{")))\n')
    with pytest.raises(GolfError, match="base85"):
        describe_script(path)


def test_a_bare_exec_that_is_not_the_wrapper_is_refused(tmp_path):
    path = tmp_path / "train_gpt.py"
    path.write_text("exec(open('other.py').read())\n")
    with pytest.raises(GolfError, match="line 1 does work at import time"):
        describe_script(path)


# --- decompression ------------------------------------------------------------------------------

PAYLOAD = bytes(range(256)) * 400


def compressed(kind: str) -> bytes:
    if kind == "zlib":
        return zlib.compress(PAYLOAD, 9)
    if kind == "lzma":
        return lzma.compress(PAYLOAD, preset=9)
    module = pytest.importorskip({"zstd": "zstandard", "brotli": "brotli"}[kind])
    return module.ZstdCompressor(level=22).compress(PAYLOAD) if kind == "zstd" else module.compress(PAYLOAD)


@pytest.mark.parametrize("kind", ["zlib", "lzma", "zstd", "brotli"])
def test_each_compressor_is_detected_and_bounded(kind):
    data = compressed(kind)
    assert decompress.decompress(data, "a.ptz") == (PAYLOAD, kind)
    with pytest.raises(GolfError, match=f"the {kind} stream decompresses to more than"):
        decompress.decompress(data, "a.ptz", limit=len(PAYLOAD) - 1)


def test_corrupt_data_is_a_clear_error():
    with pytest.raises(GolfError, match="a.ptz: not valid zlib data"):
        decompress.decompress(b"\x78\x9c" + b"\xff" * 40, "a.ptz")
    for kind in ("zlib", "lzma"):
        with pytest.raises(GolfError, match=f"a.ptz: truncated {kind} data"):
            decompress.decompress(compressed(kind)[:-30], "a.ptz")
    if importlib.util.find_spec("brotli"):
        with pytest.raises(GolfError, match="a.ptz: not valid brotli data|truncated brotli"):
            decompress.decompress(b"\x01\x02garbage", "a.ptz")
