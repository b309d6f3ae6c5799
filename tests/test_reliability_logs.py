"""The log grammar's share of the reliability contract (issue 12): unreadable numbers never raise,
every hostile line shape parses in time linear in its length, and only regular files are read."""

import os
import time

import pytest

from golf.io import UnsafeFile
from golf.read.logs import parse_log, parse_text


@pytest.mark.parametrize("line", [
    "artifact:infMB code:5",
    "artifact:nanMB code:5",
    "seed: " + "9" * 5000,
    "int8+zlib: nanMB model + 1MB code = 1/16MB",
    " int8: infMB model + 1MB code = 1/16MB",
    "Serialized model int8: " + "9" * 5000 + " bytes",
    "Code size: " + "9" * 5000 + " bytes",
    "budget:" + "9" * 5000 + "/16000000",
    "int6 model: " + "9" * 5000 + " bytes | Total submission: 1 bytes",
    "step:" + "9" * 5000 + "/10 val_loss:1.0 val_bpb:1.0",
    "step:" + "9" * 5000 + "/10 train_time:5ms",
    "stopping_early: wallclock_cap train_time:5ms step:" + "9" * 5000 + "/10",
    "final stride:" + "9" * 5000 + " val_loss:1.0 val_bpb:1.0",
    "world_size:" + "9" * 5000,
])
def test_numbers_the_parser_cannot_convert_are_skipped_not_raised(line):
    parsed = parse_text(f"seed:1\n{line}\nfinal_int8 val_loss:2.0 val_bpb:1.2\n")
    run = parsed.run
    assert run is not None and run.scores[-1].val_bpb == 1.2
    assert all(s.bytes is None or s.bytes < 10**16 for s in run.sizes)


def test_an_infinite_size_is_reported_and_ignored():
    parsed = parse_text("artifact:infMB code:5\nfinal val_loss:2.0 val_bpb:1.2\n")
    assert parsed.run.model_bytes is None
    assert parsed.run.code_bytes == 5
    assert any("size golf cannot read" in p for p in parsed.problems)


def test_a_seed_of_thousands_of_digits_is_no_seed():
    parsed = parse_text("seed: " + "9" * 5000 + "\nfinal val_loss:2.0 val_bpb:1.2\n")
    assert parsed.run.seed is None


def test_gpu_rows_still_read_after_the_regex_was_replaced():
    row = "|   0  NVIDIA H100 80GB HBM3          On  |   00000000:18:00.0 Off |                    0 |"
    parsed = parse_text(f"Running Python 3.12\n{row}\n{row.replace('   0', '   1')}\n")
    assert parsed.run.gpus == ["NVIDIA H100 80GB HBM3"] * 2


HOSTILE_LINES = {
    "spaces then x": lambda n: " " * n + "x",
    "from-import then spaces then !": lambda n: "from a import " + " " * n + "!",
    "import list then !": lambda n: "import a" + " ,a" * (n // 3) + "!",
    "gpu row of spaces": lambda n: "| 0 x" + " " * n + "!On",
    "spaces before stride": lambda n: "a" + " " * n + "x stride val_loss:1.0 val_bpb:1.0",
    "many train_time on a stop line": lambda n: "stopping_early: x " + "train_time:1ms " * (n // 15),
    "many val_loss": lambda n: "val_loss:1 " * (n // 11),
    "digits without a unit": lambda n: "1/2 train_time:" + "1" * n + "x",
    "MB sum with spaces": lambda n: " x:1MB model" + " " * n + "!",
    "env line of spaces": lambda n: " " * n + "A=x" + " " * n + "y",
    "eval time then spaces": lambda n: "x eval_time:" + " " * n + "!",
}


def _best_time(text: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        parse_text(text)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("shape", sorted(HOSTILE_LINES))
def test_parse_time_is_linear_in_the_line_length(shape):
    # Quadratic regexes made these take 11-47 s at 40,000 characters. Linear time means 4x the
    # length costs about 4x the time; the margin is wide (quadratic would be 16x) because the
    # machine is shared, and a floor keeps timer noise on tiny times from failing the test.
    make = HOSTILE_LINES[shape]
    small = _best_time("first line\n" + make(50_000) + "\n")
    large = _best_time("first line\n" + make(200_000) + "\n")
    assert large <= 10 * small + 0.05, f"{shape}: {small:.4f}s at 50k, {large:.4f}s at 200k characters"


def test_a_fifo_log_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "train.log"
    os.mkfifo(fifo)
    with pytest.raises(UnsafeFile, match="FIFO"):
        parse_log(fifo)
