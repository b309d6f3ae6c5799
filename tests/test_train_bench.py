"""benchmarks/train_bench.py --anchor: the CPU edits it makes to a copy of the challenge's script."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHALLENGE = REPO.parent / "shared" / "corpus" / "parameter-golf" / "track_10min_16mb" / "2026-03-17_NaiveBaseline" \
    / "train_gpt.py"

# The CUDA-only lines of the challenge's script, in its own words.
CUDA_SCRIPT = '''\
import subprocess
import torch
def main():
    global orth
    orth = torch.compile(orth)
    if not torch.cuda.is_available():
        raise RuntimeError("CUDA is required")
    device = torch.device("cuda", local_rank)
    torch.cuda.set_device(device)
    compiled_model = torch.compile(base_model, dynamic=False, fullgraph=True)
    with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=True):
        loss = model(x, y)
    torch.cuda.synchronize()
    print(f"peak memory allocated: {torch.cuda.max_memory_allocated() // 1024 // 1024} MiB")
    subprocess.run(["nvidia-smi"], stdout=subprocess.PIPE, check=False)
'''


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("train_bench", REPO / "benchmarks" / "train_bench.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_copy_runs_on_the_cpu_in_bf16_without_compile(bench):
    text, counts = bench.cpu_copy(CUDA_SCRIPT)
    compile(text, "anchor_cpu.py", "exec")
    assert 'torch.device("cpu")' in text and 'device_type="cpu", dtype=torch.bfloat16' in text
    assert "cuda" not in text.replace("torch.cuda.is_available()", "")
    assert "torch.compile" not in text and "compiled_model = base_model" in text and "orth = orth" in text
    assert counts["torch.compile"] == 2 and counts["synchronize"] == 1


def test_a_script_that_is_not_the_challenges_is_refused(bench):
    with pytest.raises(SystemExit, match="no device and no autocast device"):
        bench.cpu_copy("print('hello')\n", "hello.py")


def test_the_challenges_own_script_is_edited_whole():
    if not CHALLENGE.is_file():
        pytest.skip("the challenge corpus is not present")
    spec = importlib.util.spec_from_file_location("train_bench", REPO / "benchmarks" / "train_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    text, _ = bench.cpu_copy(CHALLENGE.read_text(encoding="utf-8"))
    compile(text, "anchor_cpu.py", "exec")
    assert 'device_type="cuda"' not in text and 'torch.device("cuda"' not in text and "torch.compile(" not in text
