"""`golf eval` and `golf size` end to end, including the reference script's printed scores."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from golf.cli import main
from golf.data.shards import read_shard, write_shard
from golf.data.smoke import ensure_smoke

REPO = Path(__file__).resolve().parents[1]
REFERENCE_SCRIPT = REPO / "golf" / "reference" / "train_gpt.py"
SEQ_LEN, STRIDE, VAL_TOKENS = 128, 56, 6000  # (5888 - 128) % 56 != 0: the last window is short
TINY = {  # a 2-layer, 64-wide model trained for 2 steps: seconds on a CPU
    "NUM_LAYERS": "2", "MODEL_DIM": "64", "NUM_HEADS": "4", "NUM_KV_HEADS": "2", "VOCAB_SIZE": "1024",
    "TRAIN_SEQ_LEN": str(SEQ_LEN), "TRAIN_BATCH_TOKENS": str(8 * SEQ_LEN * 2), "ITERATIONS": "2",
    "WARMUP_STEPS": "0", "MAX_WALLCLOCK_SECONDS": "0", "VAL_LOSS_EVERY": "0", "TRAIN_LOG_EVERY": "1",
    "VAL_BATCH_SIZE": str(8 * SEQ_LEN * 4), "EVAL_STRIDE": str(STRIDE), "EVAL_BATCH_SEQS": "5",
    "SEED": "7", "RUN_ID": "evaltest",
}
EXACT = re.compile(r"^(final_int8_zlib_roundtrip(?:_sliding_window)?_exact)(?: stride:(\d+))? "
                   r"val_loss:([0-9.]+) val_bpb:([0-9.]+)$", re.M)


@pytest.fixture(autouse=True)
def one_thread(monkeypatch):
    # One intra-op thread: on a busy 2-core machine, torch's thread pool can be 100x slower than one thread.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    """A small dataset cut from the bundled smoke data: 6,000 validation tokens, 100,000 train tokens."""
    root = tmp_path_factory.mktemp("evaldata")
    smoke_data, tokenizer = ensure_smoke(root / "smoke")
    data = root / "tiny"
    write_shard(data / "fineweb_val_000000.bin", read_shard(smoke_data / "fineweb_val_000000.bin")[:VAL_TOKENS])
    write_shard(data / "fineweb_train_000000.bin", read_shard(smoke_data / "fineweb_train_000000.bin")[:100_000])
    return data, tokenizer


@pytest.fixture(scope="module")
def trained_record(tiny_data, tmp_path_factory):
    """The reference script run in a record folder; returns the folder and its printed exact scores."""
    if not REFERENCE_SCRIPT.is_file():
        pytest.skip("the reference trainer is not there yet")
    data, tokenizer = tiny_data
    record = tmp_path_factory.mktemp("records") / "track_smoke" / "2026-01-01_Tiny"
    record.mkdir(parents=True)
    shutil.copy(REFERENCE_SCRIPT, record / "train_gpt.py")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(TINY, DATA_PATH=str(data), TOKENIZER_PATH=str(tokenizer), COMPILE="0", DTYPE="float32",
               OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "train_gpt.py"], cwd=record, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    scores = {m.group(1): (int(m.group(2)) if m.group(2) else None, float(m.group(3)), float(m.group(4)))
              for m in EXACT.finditer(done.stdout)}
    assert set(scores) == {"final_int8_zlib_roundtrip_exact", "final_int8_zlib_roundtrip_sliding_window_exact"}
    # The record declares the knobs its script needs, as golf submit writes them.
    knobs = {k: TINY[k] for k in ("NUM_LAYERS", "MODEL_DIM", "NUM_HEADS", "NUM_KV_HEADS", "TRAIN_SEQ_LEN",
                                  "EVAL_STRIDE", "EVAL_BATCH_SEQS")}
    (record / "submission.json").write_text(json.dumps({"run": {"command": "python train_gpt.py", "env": knobs}}))
    return record, scores


def run_cli(argv, capsys):
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_golf_eval_reproduces_the_reference_scripts_printed_scores(trained_record, tiny_data, capsys):
    record, scores = trained_record
    data, tokenizer = tiny_data
    code, out, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer),
                              "--batch-seqs", "4", "--json"], capsys)
    assert code == 0, err
    report = json.loads(out)
    by_mode = {r["mode"]: r for r in report["results"]}
    assert set(by_mode) == {"standard", "sliding"}
    assert report["seq_len"] == SEQ_LEN and by_mode["sliding"]["stride"] == STRIDE
    _, loss, bpb = scores["final_int8_zlib_roundtrip_exact"]
    assert abs(by_mode["standard"]["val_loss"] - loss) <= 1e-6
    assert abs(by_mode["standard"]["val_bpb"] - bpb) <= 1e-6
    stride, loss, bpb = scores["final_int8_zlib_roundtrip_sliding_window_exact"]
    assert stride == STRIDE
    assert abs(by_mode["sliding"]["val_loss"] - loss) <= 1e-6
    assert abs(by_mode["sliding"]["val_bpb"] - bpb) <= 1e-6
    usable = ((VAL_TOKENS - 1) // SEQ_LEN) * SEQ_LEN
    assert by_mode["standard"]["targets"] == by_mode["sliding"]["targets"] == usable
    assert by_mode["standard"]["bytes"] == by_mode["sliding"]["bytes"]


def test_golf_eval_human_output_and_explicit_stride(trained_record, tiny_data, capsys):
    record, scores = trained_record
    data, tokenizer = tiny_data
    code, out, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer),
                              "--stride", str(SEQ_LEN), "--standard"], capsys)
    assert code == 0, err
    _, loss, _ = scores["final_int8_zlib_roundtrip_exact"]
    assert "standard" in out and f"sliding, stride {SEQ_LEN}" in out
    # stride == seq_len scores exactly the standard sequences
    assert out.count(f"{loss:.6f}") == 2
    # an explicit --stride alone runs the sliding pass only
    code, out, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer),
                              "--stride", str(SEQ_LEN), "--json"], capsys)
    assert code == 0, err
    assert [r["mode"] for r in json.loads(out)["results"]] == ["sliding"]


def test_env_knobs_reach_the_script(trained_record, tiny_data, capsys):
    record, _ = trained_record
    data, tokenizer = tiny_data
    # A different shape than the artifact holds: the script's load_state_dict must fail, cleanly reported.
    code, out, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer),
                              "--env", "MODEL_DIM=32"], capsys)
    assert code == 2
    assert err.startswith("golf: error: evaluating final_model.int8.ptz")
    assert "size mismatch" in err or "Error" in err


WOULD_RUN = """\
from pathlib import Path
Path({marker!r}).write_text("the script was executed")

def main():
    pass
"""


def test_script_without_the_interface_is_refused_without_running_it(tmp_path, tiny_data, capsys):
    data, tokenizer = tiny_data
    marker = tmp_path / "executed.txt"
    record = tmp_path / "record"
    record.mkdir()
    (record / "train_gpt.py").write_text(WOULD_RUN.format(marker=str(marker)))
    (record / "final_model.int8.ptz").write_bytes(b"x")
    code, _, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer)],
                           capsys)
    assert code == 2
    assert "refusing to evaluate: line 2 does work at import time" in err and "Nothing was run" in err
    assert not marker.exists()
    # an inert script without the interface or the conventions golf's loaders need: one clear line
    (record / "train_gpt.py").write_text("import os\nX = int(os.environ.get('X', 1))\n\ndef main():\n    pass\n")
    code, _, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer)],
                           capsys)
    assert code == 2 and "neither load_model_for_eval" in err and "Hyperparameters class" in err


def test_syntax_error_script_is_refused(tmp_path, capsys):
    record = tmp_path / "record"
    record.mkdir()
    (record / "train_gpt.py").write_text("def load_model_for_eval(:\n")
    code, _, err = run_cli(["eval", str(record)], capsys)
    assert code == 2 and "does not parse" in err and "line 1" in err


FAILING = """\
def load_model_for_eval(artifact_path, device="cpu"):
    raise ValueError("boom from the record script")

class Model:
    def forward_logits(self, input_ids):
        return None
"""


def test_worker_errors_are_reported_cleanly(tmp_path, tiny_data, capsys):
    data, tokenizer = tiny_data
    record = tmp_path / "record"
    record.mkdir()
    (record / "train_gpt.py").write_text(FAILING)
    (record / "final_model.int8.ptz").write_bytes(b"x")
    code, _, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer)],
                           capsys)
    assert code == 2
    assert err.startswith("golf: error: evaluating final_model.int8.ptz")
    assert "ValueError: boom from the record script" in err


def test_missing_things_are_clear_errors(tmp_path, tiny_data, capsys):
    data, tokenizer = tiny_data
    code, _, err = run_cli(["eval", str(tmp_path / "nope")], capsys)
    assert code == 2 and "no such record folder" in err
    record = tmp_path / "record"
    record.mkdir()
    code, _, err = run_cli(["eval", str(record)], capsys)
    assert code == 2 and "no train_gpt.py" in err
    (record / "train_gpt.py").write_text(FAILING)
    code, _, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer)],
                           capsys)
    assert code == 2 and "no such artifact file" in err and "--artifact" in err
    (record / "final_model.int8.ptz").write_bytes(b"x")
    code, _, err = run_cli(["eval", str(record), "--data-path", str(tmp_path), "--tokenizer-path", str(tokenizer)],
                           capsys)
    assert code == 2 and "fineweb_val_" in err
    code, _, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path",
                            str(tmp_path / "missing.model")], capsys)
    assert code == 2 and "no such tokenizer model" in err
    code, _, err = run_cli(["eval", str(record), "--data-path", str(data), "--tokenizer-path", str(tokenizer),
                            "--env", "NO_EQUALS_SIGN"], capsys)
    assert code == 2 and "KEY=VALUE" in err


# --- golf size --------------------------------------------------------------------------------------

def make_record(root: Path, code_bytes: int, model_bytes: int | None) -> Path:
    record = root / "track_10min_16mb" / "2026-01-01_Size"
    record.mkdir(parents=True)
    (record / "train_gpt.py").write_bytes(b"#" * code_bytes)
    if model_bytes is not None:
        with open(record / "final_model.int8.ptz", "wb") as f:
            f.truncate(model_bytes)  # a sparse file: its size is what counts
    return record


def test_size_fits(tmp_path, capsys):
    record = make_record(tmp_path, 1000, 15_000_000)
    code, out, _ = run_cli(["size", str(record), "--json"], capsys)
    report = json.loads(out)
    assert code == 0
    assert (report["code_bytes"], report["model_bytes"], report["total"]) == (1000, 15_000_000, 15_001_000)
    assert report["cap"] == 16_000_000 and report["fits"] is True and report["track"] == "track_10min_16mb"
    code, out, _ = run_cli(["size", str(record)], capsys)
    assert code == 0 and "15,001,000" in out and "under the cap" in out


def test_size_over_the_cap(tmp_path, capsys):
    record = make_record(tmp_path, 2, 15_999_999)
    code, out, _ = run_cli(["size", str(record)], capsys)
    assert code == 1 and "over the cap by 1 bytes" in out
    code, out, _ = run_cli(["size", str(record), "--json"], capsys)
    assert code == 1 and json.loads(out)["fits"] is False


def test_size_without_artifact_and_errors(tmp_path, capsys):
    record = make_record(tmp_path, 10, None)
    code, out, _ = run_cli(["size", str(record), "--json"], capsys)
    assert code == 0 and json.loads(out)["model_bytes"] is None
    code, _, err = run_cli(["size", str(tmp_path / "nope")], capsys)
    assert code == 2 and "no such record folder" in err


def test_size_does_not_import_torch(tmp_path):
    record = make_record(tmp_path, 10, 20)
    script = ("import sys\nfrom golf.cli import main\n"
              f"assert main(['size', {str(record)!r}, '--json']) == 0\n"
              "assert 'torch' not in sys.modules, 'golf size imported torch'\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


# --- how golf eval finds its inputs ----------------------------------------------------------------

def test_data_defaults_env_then_smoke(tmp_path, tiny_data, monkeypatch):
    from golf.produce.eval.runner import resolve_data

    data, tokenizer = tiny_data
    smoke_root = tokenizer.parents[2]  # .../smoke (holds data/datasets/smoke_sp1024 and data/tokenizers)
    record = tmp_path / "record"
    record.mkdir()
    monkeypatch.chdir(smoke_root)
    assert resolve_data(None, None, {}, record) == (smoke_root / "data/datasets/smoke_sp1024", tokenizer)
    assert resolve_data(None, None, {"DATA_PATH": str(data)}, record)[0] == data
    # a relative path in the environment is looked up in the record folder first (the script runs there)
    (record / "data").symlink_to(data)
    assert resolve_data(None, None, {"DATA_PATH": "data"}, record)[0] == data
    assert resolve_data(str(data), None, {"DATA_PATH": "nowhere"}, record)[0] == data
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception, match="golf data smoke"):
        resolve_data(None, None, {}, record)


def test_record_env_and_env_options(tmp_path):
    import argparse

    from golf.cli.options import env_item
    from golf.produce.eval.runner import record_env

    assert record_env(tmp_path) == {}
    (tmp_path / "submission.json").write_text(json.dumps({"run": {"env": {"NUM_LAYERS": 2, "X": "y"}}}))
    assert record_env(tmp_path) == {"NUM_LAYERS": "2", "X": "y"}
    (tmp_path / "submission.json").write_text("{broken")
    assert record_env(tmp_path) == {}
    assert [env_item(i) for i in ("A=1", "B=x=y", "C=")] == [("A", "1"), ("B", "x=y"), ("C", "")]
    for bad in ("=1", "A", "1A=x", "A B=x", "A=x\0y"):
        with pytest.raises(argparse.ArgumentTypeError):
            env_item(bad)
