"""`golf data info`, the `golf data` group itself, and the promise that data commands never load torch."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from golf.cli import main
from golf.data.shards import write_shard
from golf.data.smoke import SMOKE_DATASET, SMOKE_TOKENIZER, ensure_smoke

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def smoke_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ensure_smoke(tmp_path)
    return tmp_path


def test_info_json_on_a_dataset_directory(smoke_root, capsys):
    assert main(["data", "info", SMOKE_DATASET, "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    manifest = json.loads((REPO / "golf/data/smoke/manifest.json").read_text())
    by_name = {Path(e["path"]).name: e for e in manifest["files"]}
    assert [Path(s["path"]).name for s in info["shards"]] == ["fineweb_train_000000.bin", "fineweb_val_000000.bin"]
    for shard in info["shards"]:
        assert shard["sha256"] == by_name[Path(shard["path"]).name]["sha256"]
        assert shard["tokens"] == by_name[Path(shard["path"]).name]["tokens"]
    assert info["tokens_by_split"] == {"train": manifest["tokens_train"], "val": manifest["tokens_val"]}
    assert info["tokens_total"] == manifest["tokens_train"] + manifest["tokens_val"]
    assert info["vocabulary"]["size"] == 1024
    assert Path(info["vocabulary"]["tokenizer"]).name == "smoke_1024_bpe.model"
    assert info["max_token_id"] == 1023 and info["problems"] == []


def test_info_table_on_a_data_root(smoke_root, capsys):
    assert main(["data", "info", "data"]) == 0
    out = capsys.readouterr().out
    assert "smoke_sp1024/fineweb_train_000000.bin" in out and "train" in out and "val" in out
    assert "vocabulary: 1024" in out and "tokens: 2,067,285" in out


def test_info_uses_the_manifest_tokenizer_and_an_explicit_one(tmp_path, capsys):
    _, model = ensure_smoke(tmp_path / "smoke")
    root = tmp_path / "built"
    write_shard(root / "datasets/mine_sp1024/fineweb_val_000000.bin", [1, 5, 6, 7])
    (root / "tokenizers").mkdir(parents=True)
    for name in ("a_1024_bpe.model", "b_1024_bpe.model"):
        (root / "tokenizers" / name).write_bytes(model.read_bytes())
    manifest = {"datasets": [{"name": "mine_sp1024", "tokenizer_name": "t"}],
                "tokenizers": [{"name": "t", "model_path": "tokenizers/b_1024_bpe.model"}]}
    (root / "manifest.json").write_text(json.dumps(manifest))
    assert main(["data", "info", str(root / "datasets/mine_sp1024"), "--json", "--no-hash"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["vocabulary"]["tokenizer"] == str(root / "tokenizers/b_1024_bpe.model")
    assert info["shards"][0]["sha256"] is None
    assert main(["data", "info", str(root), "--tokenizer", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["vocabulary"]["tokenizer"] == str(model)


def test_info_without_a_tokenizer_and_with_ids_beyond_it(tmp_path, capsys):
    write_shard(tmp_path / "fineweb_val_000000.bin", [1, 2, 3])
    assert main(["data", "info", str(tmp_path)]) == 0
    assert "vocabulary: unknown" in capsys.readouterr().out
    _, model = ensure_smoke(tmp_path / "smoke")
    write_shard(tmp_path / "fineweb_train_000000.bin", [1, 4000])
    assert main(["data", "info", str(tmp_path), "--tokenizer", str(model)]) == 1
    assert "token id 4000 is outside the tokenizer's vocabulary of 1024" in capsys.readouterr().out


def test_info_bad_input(tmp_path, capsys):
    assert main(["data", "info", str(tmp_path / "nope")]) == 2
    assert f"golf: error: {tmp_path / 'nope'}: no such directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["data", "info", str(tmp_path / "empty")]) == 2
    assert "no shard files" in capsys.readouterr().err
    (tmp_path / "empty" / "fineweb_val_000000.bin").write_bytes(b"\x00" * 10)
    assert main(["data", "info", str(tmp_path / "empty")]) == 2
    assert "fineweb_val_000000.bin: truncated header" in capsys.readouterr().err
    file = tmp_path / "file.bin"
    file.write_bytes(b"x")
    assert main(["data", "info", str(file)]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_data_group_alone_prints_its_help(capsys):
    assert main(["data"]) == 2
    out = capsys.readouterr().out
    for sub in ("fetch", "build", "smoke", "info"):
        assert sub in out


def test_every_data_option_has_help(capsys):
    for sub in ("fetch", "build", "smoke", "info"):
        assert main(["data", sub, "--help"]) == 0
        text = capsys.readouterr().out
        assert "usage: golf data " + sub in text
    # the documented document model of `build`
    assert main(["data", "build", "--help"]) == 0
    assert "each file is one document" in capsys.readouterr().out


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_python_m_golf_data_help(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "golf", "data", "--help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "golf data" in done.stdout and "smoke" in done.stdout


def test_smoke_and_info_do_not_import_torch(tmp_path):
    code = ("import sys; from golf.cli import main; "
            "assert main(['data', 'smoke']) == 0; "
            "assert main(['data', 'info', 'data', '--json']) == 0; "
            "assert main(['data', 'smoke']) == 0; "
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]; "
            "assert not bad, bad; print('NO_TORCH')")
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "NO_TORCH" in done.stdout
    assert (tmp_path / SMOKE_TOKENIZER).is_file()


def test_shard_values_survive_the_info_path(tmp_path, capsys):
    tokens = np.arange(0, 60000, 7)
    write_shard(tmp_path / "fineweb_val_000000.bin", tokens)
    assert main(["data", "info", str(tmp_path), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["max_token_id"] == int(tokens.max()) and info["tokens_total"] == tokens.size
