"""`golf data build` (spec 2.2): tokenizer settings, shard layout, manifest, determinism, bad input."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm

from golf.cli import main
from golf.data.build import build_dataset, read_jsonl_documents, read_text_documents, train_tokenizer
from golf.data.shards import read_shard
from golf.data.smoke import ensure_smoke
from golf.errors import GolfError

FIXTURES = Path(__file__).parent / "fixtures" / "data"
BOS = 1


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Twelve real documents (pieces of Shakespeare from the smoke set), about 10 kB each."""
    data, model = ensure_smoke(tmp_path_factory.mktemp("smoke"))
    sp = spm.SentencePieceProcessor(model_file=str(model))
    tokens = np.asarray(read_shard(data / "fineweb_train_000000.bin"))[:60_000]
    text = sp.decode([int(t) for t in tokens if t != BOS])
    return [text[i * 10_000:(i + 1) * 10_000].strip() for i in range(12)]


def files_of(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    return build_dataset(corpus, 400, 3, out, name="tiny")


def test_layout_and_manifest(built):
    out = built.out
    names = sorted(files_of(out))
    assert names == ["datasets/tiny_sp400/fineweb_train_000000.bin", "datasets/tiny_sp400/fineweb_val_000000.bin",
                     "manifest.json", "tokenizers/tiny_400_bpe.model", "tokenizers/tiny_400_bpe.vocab"]
    manifest = json.loads((out / "manifest.json").read_text())
    for rel, entry in manifest["files"].items():
        data = (out / rel).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    stats = manifest["datasets"][0]["stats"]
    assert stats["docs_val"] == 3 and stats["docs_train"] == 9 and stats["files_val"] == stats["files_train"] == 1
    assert stats["tokens_val"] == read_shard(out / "datasets/tiny_sp400/fineweb_val_000000.bin").size
    assert stats["tokens_train"] == read_shard(out / "datasets/tiny_sp400/fineweb_train_000000.bin").size
    assert manifest["datasets"][0]["tokenizer_name"] == manifest["tokenizers"][0]["name"]
    assert manifest["tokenizers"][0]["model_path"] == "tokenizers/tiny_400_bpe.model"
    assert manifest["tokenizers"][0]["recommended_bigram_vocab_size"] == 4 * 128 * 5


def test_tokenizer_has_the_challenge_settings(built):
    sp = spm.SentencePieceProcessor(model_file=str(built.model_path))
    assert sp.get_piece_size() == 400
    assert [sp.id_to_piece(i) for i in range(4)] == ["<pad>", "<s>", "</s>", "<unk>"]
    assert (sp.pad_id(), sp.bos_id(), sp.eos_id(), sp.unk_id()) == (0, 1, 2, 3)
    assert all(sp.is_byte(sp.piece_to_id(f"<0x{b:02X}>")) for b in range(256))  # byte fallback
    assert not sp.encode("hello world", out_type=str)[0].startswith("\u2581")  # no dummy prefix
    assert sp.decode(sp.encode("ﬁne")) == "fine"  # NFKC folds the ligature
    vocab_lines = built.model_path.with_suffix(".vocab").read_text("utf-8").splitlines()
    assert len(vocab_lines) == 400 and vocab_lines[1] == "<s>\t0"


def test_shards_hold_bos_then_each_document_in_order(built, corpus):
    sp = spm.SentencePieceProcessor(model_file=str(built.model_path))
    val = read_shard(built.dataset_dir / "fineweb_val_000000.bin").tolist()
    train = read_shard(built.dataset_dir / "fineweb_train_000000.bin").tolist()
    expect = lambda docs: [t for doc in docs for t in [BOS, *sp.encode(doc)]]  # noqa: E731
    assert val == expect(corpus[:3])
    assert train == expect(corpus[3:])
    assert val.count(BOS) == 3 and train.count(BOS) == 9


def test_digits_are_never_merged(corpus, tmp_path):
    # Numbers repeated this often would become pieces ("2024", "▁1999") without split_digits.
    numbers = "\n".join(["In 2024 and 1999 we saw 31337 and 2024."] * 2000)
    model = train_tokenizer([*corpus, numbers], 400, tmp_path / "digits.model")
    sp = spm.SentencePieceProcessor(model_file=str(model))
    assert sp.encode("2024", out_type=str) == ["2", "0", "2", "4"]
    normal = [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not (sp.is_byte(i) or sp.is_control(i))]
    assert "2" in normal and not [p for p in normal if sum(c.isdigit() for c in p) > 1]


def test_same_input_gives_byte_identical_output(built, corpus, tmp_path):
    again = build_dataset(corpus, 400, 3, tmp_path / "again", name="tiny")
    assert files_of(again.out) == files_of(built.out)


def test_small_shards_split_documents_and_flush_at_the_split_change(built, corpus, tmp_path):
    small = build_dataset(corpus, 400, 3, tmp_path / "small", name="tiny", shard_tokens=5000)
    val = sorted(small.dataset_dir.glob("fineweb_val_*.bin"))
    train = sorted(small.dataset_dir.glob("fineweb_train_*.bin"))
    assert len(val) > 1 and len(train) > 1
    for group in (val, train):
        sizes = [read_shard(p).size for p in group]
        assert all(size == 5000 for size in sizes[:-1]) and 0 < sizes[-1] <= 5000
    whole_val = read_shard(built.dataset_dir / "fineweb_val_000000.bin")
    assert np.concatenate([read_shard(p) for p in val]).tolist() == whole_val.tolist()
    manifest = json.loads((small.out / "manifest.json").read_text())
    assert manifest["datasets"][0]["stats"]["files_val"] == len(val)
    assert manifest["shard_size"] == 5000


def test_rebuild_with_bigger_shards_removes_stale_shards(corpus, tmp_path):
    build_dataset(corpus, 400, 3, tmp_path, name="tiny", shard_tokens=5000)
    with pytest.raises(GolfError, match="already exists: pass --force"):
        build_dataset(corpus, 400, 3, tmp_path, name="tiny")
    result = build_dataset(corpus, 400, 3, tmp_path, name="tiny", force=True)
    assert sorted(p.name for p in result.dataset_dir.iterdir()) == ["fineweb_train_000000.bin",
                                                                    "fineweb_val_000000.bin"]


@pytest.mark.parametrize("val_docs", [0, 12, 20])
def test_val_docs_must_leave_both_splits_non_empty(corpus, tmp_path, val_docs):
    with pytest.raises(GolfError, match="--val-docs"):
        build_dataset(corpus, 400, val_docs, tmp_path)


def test_vocabulary_limits(corpus, tmp_path):
    with pytest.raises(GolfError, match="too small"):
        build_dataset(corpus, 100, 3, tmp_path)
    with pytest.raises(GolfError, match="uint16"):
        build_dataset(corpus, 70_000, 3, tmp_path)


def test_reading_documents():
    assert len(read_text_documents(FIXTURES / "three_docs.txt")) == 1
    docs = read_text_documents(FIXTURES / "three_docs.txt", "\n\n\n")
    assert docs == ["First document of the small text fixture.\nIt spans two lines.",
                    "Second document, after a triple newline.",
                    "Third and last: numbers 1 2 3 and a naïve word."]
    jsonl = read_jsonl_documents(FIXTURES / "multilingual.jsonl")
    assert len(jsonl) == 6 and jsonl[3].startswith("東京")


def test_reading_errors(tmp_path):
    with pytest.raises(GolfError, match=r"bad_line.jsonl:2: not valid JSON"):
        read_jsonl_documents(FIXTURES / "bad_line.jsonl")
    with pytest.raises(GolfError, match=r"no_text.jsonl:2: expected a JSON object"):
        read_jsonl_documents(FIXTURES / "no_text.jsonl")
    with pytest.raises(GolfError, match="no such file"):
        read_text_documents(tmp_path / "missing.txt")
    with pytest.raises(GolfError, match="not a regular file"):
        read_text_documents(tmp_path)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(GolfError, match="latin1.txt: not UTF-8"):
        read_text_documents(tmp_path / "latin1.txt")


def test_nul_bytes_become_spaces(tmp_path):
    (tmp_path / "nul.txt").write_text("  a\x00b  \n")
    assert read_text_documents(tmp_path / "nul.txt") == ["a b"]


# ---------------------------------------------------------------- the command

def test_build_command(corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for i, doc in enumerate(corpus[:6]):
        Path(f"doc{i}.txt").write_text(doc, encoding="utf-8")
    texts = [f"doc{i}.txt" for i in range(6)]
    rc = main(["data", "build", "--text", *texts, "--jsonl", str(FIXTURES / "multilingual.jsonl"),
               "--vocab-size", "320", "--val-docs", "2", "--out", "out", "--name", "mine"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "out/datasets/mine_sp320" in out and "vocabulary 320" in out and "2 documents" in out
    manifest = json.loads(Path("out/manifest.json").read_text())
    assert [s["path"] for s in manifest["sources"]] == texts + ["multilingual.jsonl"]
    assert manifest["num_docs"] == 12
    rc = main(["data", "build", "--text", str(FIXTURES / "three_docs.txt"), "--doc-separator", r"\n\n\n",
               "--vocab-size", "300", "--val-docs", "1", "--out", "sep", "--json"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["docs_val"] == 1 and summary["docs_train"] == 2


def test_build_command_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["data", "build", "--vocab-size", "300", "--val-docs", "1", "--out", "o"]) == 2
    assert "needs documents" in capsys.readouterr().err
    assert main(["data", "build", "--text", "nope.txt", "--vocab-size", "300", "--val-docs", "1",
                 "--out", "o"]) == 2
    assert "golf: error: nope.txt: no such file" in capsys.readouterr().err
    assert main(["data", "build", "--jsonl", str(FIXTURES / "bad_line.jsonl"), "--vocab-size", "300",
                 "--val-docs", "1", "--out", "o"]) == 2
    assert "bad_line.jsonl:2" in capsys.readouterr().err


def test_documents_in_both_splits_are_counted_and_reported(corpus, tmp_path, capsys):
    docs = list(corpus)
    leaked = docs[:3] + docs[3:] + [docs[0], docs[1]]  # two train documents copy validation ones
    result = build_dataset(leaked, 400, 3, tmp_path / "leak", name="tiny")
    assert result.docs_in_both == 2
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["datasets"][0]["stats"]["docs_in_both_splits"] == 2
    err = capsys.readouterr().err
    assert "training the tokenizer" in err and "tokenizer trained in" in err
    text = tmp_path / "leak.txt"
    text.write_text("\n\n\n".join(leaked))
    assert main(["data", "build", "--text", str(text), "--doc-separator", r"\n\n\n", "--vocab-size", "400",
                 "--val-docs", "3", "--out", str(tmp_path / "cli")]) == 0
    assert "2 train documents are identical to a validation document" in capsys.readouterr().err
    assert main(["data", "build", "--text", str(text), "--doc-separator", r"\n\n\n", "--vocab-size", "400",
                 "--val-docs", "3", "--out", str(tmp_path / "cli")]) == 2
    assert "pass --force" in capsys.readouterr().err
