"""The bundled smoke dataset: materialised offline, verified by sha256, idempotent, never losing a changed file."""

import hashlib
import json
import os
import shutil

import numpy as np
import pytest
import sentencepiece as spm

from golf.cli import main
from golf.data import smoke as smoke_module
from golf.data.shards import read_shard
from golf.data.smoke import SMOKE_DATASET, SMOKE_TOKENIZER, ensure_smoke, materialize_smoke
from golf.errors import GolfError

BUNDLE = json.loads((smoke_module.BUNDLE_DIR / "manifest.json").read_text())


def test_bundle_is_small_and_complete():
    names = {entry["bundle"] for entry in BUNDLE["files"]}
    assert names == {"fineweb_train_000000.bin.xz", "fineweb_val_000000.bin.xz",
                     "smoke_1024_bpe.model.xz", "smoke_1024_bpe.vocab.xz"}
    assert sum((smoke_module.BUNDLE_DIR / n).stat().st_size for n in names) < 3_000_000


def test_materialises_the_contract_paths(tmp_path):
    data_path, tokenizer_path = ensure_smoke(tmp_path)
    assert data_path == tmp_path / SMOKE_DATASET == tmp_path / "data/datasets/smoke_sp1024"
    assert tokenizer_path == tmp_path / SMOKE_TOKENIZER == tmp_path / "data/tokenizers/smoke_1024_bpe.model"
    for entry in BUNDLE["files"]:
        content = (tmp_path / entry["path"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    assert tokenizer_path.with_suffix(".vocab").is_file()


def test_real_text_with_enough_tokens(tmp_path):
    data_path, tokenizer_path = ensure_smoke(tmp_path)
    sp = spm.SentencePieceProcessor(model_file=str(tokenizer_path))
    assert sp.get_piece_size() == 1024 and sp.bos_id() == 1
    train = np.asarray(read_shard(data_path / "fineweb_train_000000.bin"))
    val = np.asarray(read_shard(data_path / "fineweb_val_000000.bin"))
    assert train.size >= 1_000_000 and val.size >= 200_000
    assert train[0] == val[0] == 1
    assert int(np.count_nonzero(val == 1)) == BUNDLE["docs_val"]
    assert int(np.count_nonzero(train == 1)) == BUNDLE["docs_train"]
    assert max(int(train.max()), int(val.max())) < 1024
    text = sp.decode(val[1:5000].tolist())
    words = text.split()
    common = {"the", "and", "of", "to", "I", "my", "you", "a"}
    assert sum(w in common for w in words) > 0.08 * len(words)  # English prose, not noise


def test_second_run_leaves_everything_alone(tmp_path):
    ensure_smoke(tmp_path)
    stamps = {e["path"]: os.stat(tmp_path / e["path"]).st_mtime_ns for e in BUNDLE["files"]}
    result = materialize_smoke(tmp_path)
    assert [f.status for f in result.files] == ["present"] * 4
    assert stamps == {e["path"]: os.stat(tmp_path / e["path"]).st_mtime_ns for e in BUNDLE["files"]}


def test_a_changed_file_is_replaced_and_kept_as_bak(tmp_path):
    data_path, _ = ensure_smoke(tmp_path)
    shard = data_path / "fineweb_val_000000.bin"
    shard.write_bytes(b"my own edits")
    result = materialize_smoke(tmp_path)
    replaced = [f for f in result.files if f.status == "replaced"]
    assert [f.path for f in replaced] == [shard]
    assert replaced[0].backup.read_bytes() == b"my own edits"
    assert read_shard(shard).size >= 200_000


def test_a_missing_file_is_written_again(tmp_path):
    _, tokenizer_path = ensure_smoke(tmp_path)
    tokenizer_path.unlink()
    result = materialize_smoke(tmp_path)
    assert [(f.path, f.status) for f in result.files if f.status != "present"] == [(tokenizer_path, "written")]


def test_a_directory_in_the_way_is_an_error(tmp_path):
    (tmp_path / SMOKE_TOKENIZER).mkdir(parents=True)
    with pytest.raises(GolfError, match="exists and is not a file"):
        ensure_smoke(tmp_path)


def test_a_damaged_bundle_is_refused(tmp_path, monkeypatch):
    bundle = tmp_path / "bundle"
    shutil.copytree(smoke_module.BUNDLE_DIR, bundle)
    monkeypatch.setattr(smoke_module, "BUNDLE_DIR", bundle)
    monkeypatch.setattr(smoke_module, "BUNDLE_MANIFEST", bundle / "manifest.json")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["files"][0]["sha256"] = "0" * 64
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(GolfError, match="does not match the bundle manifest's sha256"):
        ensure_smoke(tmp_path / "root")
    assert not (tmp_path / "root" / manifest["files"][0]["path"]).exists()
    (bundle / "fineweb_val_000000.bin.xz").write_bytes(b"not xz")
    manifest["files"][0]["sha256"] = BUNDLE["files"][0]["sha256"]
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(GolfError, match="cannot unpack"):
        ensure_smoke(tmp_path / "root")
    (bundle / "manifest.json").unlink()
    with pytest.raises(GolfError, match="smoke bundle is missing or broken"):
        ensure_smoke(tmp_path / "root")


def test_smoke_command(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "smoke"]) == 0
    out = capsys.readouterr().out
    assert out.count("written") == 4
    assert f"[{BUNDLE['tokens_train']:,} tokens]" in out
    assert "vocabulary 1024" in out
    assert (tmp_path / SMOKE_DATASET / "fineweb_train_000000.bin").is_file()
    assert main(["data", "smoke"]) == 0
    assert capsys.readouterr().out.count("already present") == 4
    (tmp_path / SMOKE_TOKENIZER).write_bytes(b"changed")
    assert main(["data", "smoke", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    changed = [f for f in report["files"] if f["status"] == "replaced"]
    assert len(changed) == 1 and changed[0]["backup"].endswith("smoke_1024_bpe.model.bak")


def test_smoke_command_with_root_and_bad_root(tmp_path, capsys):
    assert main(["data", "smoke", "--root", str(tmp_path / "elsewhere")]) == 0
    assert (tmp_path / "elsewhere" / SMOKE_TOKENIZER).is_file()
    capsys.readouterr()
    (tmp_path / "file").write_text("x")
    assert main(["data", "smoke", "--root", str(tmp_path / "file")]) == 2
    assert "golf: error:" in capsys.readouterr().err
