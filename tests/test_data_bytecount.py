"""Byte accounting (spec 1.9): the lookup tables agree with decoding real text, and the three
known tokenizer faults make them disagree in the documented direction and by the predicted amount."""

import json
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm

from golf.data.bytecount import (ByteTables, audit_tokenizer, canonical_bytes, load_processor, stream_bytes,
                                 target_bytes)
from golf.data.shards import read_shard
from golf.data.smoke import ensure_smoke
from golf.errors import GolfError

FIXTURES = Path(__file__).parent / "fixtures" / "data"
BOS = 1


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    data, model = ensure_smoke(tmp_path_factory.mktemp("smoke"))
    return data, model


@pytest.fixture(scope="module")
def sp(smoke):
    return spm.SentencePieceProcessor(model_file=str(smoke[1]))


@pytest.fixture(scope="module")
def val_tokens(smoke):
    return np.asarray(read_shard(smoke[0] / "fineweb_val_000000.bin"))


@pytest.fixture(scope="module")
def val_docs(sp, val_tokens):
    """The validation documents as (normalised) text."""
    starts = np.flatnonzero(val_tokens == BOS).tolist() + [val_tokens.size]
    return [sp.decode(val_tokens[a + 1:b].tolist()) for a, b in zip(starts[:-1], starts[1:])]


def encode_docs(processor, docs):
    ids = []
    for doc in docs:
        ids += [BOS, *processor.encode(doc)]
    return np.array(ids, dtype=np.int64)


def utf8_len(docs):
    return sum(len(doc.encode("utf-8")) for doc in docs)


def multilingual_docs():
    return [json.loads(line)["text"] for line in (FIXTURES / "multilingual.jsonl").read_text("utf-8").splitlines()]


# ---------------------------------------------------------------- the tables themselves

def test_tables_follow_the_vocab_file(smoke):
    """Expected values derived from the .vocab text file, not from the SentencePiece API."""
    tables = ByteTables.from_sentencepiece(smoke[1])
    pieces = [line.split("\t")[0] for line in smoke[1].with_suffix(".vocab").read_text("utf-8").splitlines()]
    assert tables.size == len(pieces) == 1024
    assert tables.base_bytes.dtype == np.int16
    for token, piece in enumerate(pieces):
        if piece in ("<pad>", "<s>", "</s>", "<unk>"):
            expected = (0, False, True)
        elif piece.startswith("<0x") and piece.endswith(">") and len(piece) == 6:
            expected = (1, False, False)
        elif piece.startswith("\u2581"):
            expected = (len(piece[1:].encode("utf-8")), True, False)
        else:
            expected = (len(piece.encode("utf-8")), False, False)
        got = (int(tables.base_bytes[token]), bool(tables.has_leading_space[token]), bool(tables.is_boundary[token]))
        assert got == expected, (token, piece)


def test_ids_beyond_the_sp_vocab_are_boundaries(smoke):
    tables = ByteTables.from_sentencepiece(smoke[1], vocab_size=1100)
    assert tables.size == 1100
    assert tables.is_boundary[1024:].all()
    assert not tables.base_bytes[1024:].any()
    assert ByteTables.from_sentencepiece(smoke[1], vocab_size=10).size == 1024


def test_target_bytes_by_hand(sp):
    tables = ByteTables.from_sentencepiece(sp)
    the = sp.piece_to_id("\u2581the")
    word = sp.piece_to_id("the")
    assert sp.id_to_piece(the) == "\u2581the" and sp.id_to_piece(word) == "the"
    # "▁the" after BOS: no space (document start); after a word: the space counts one byte.
    out = target_bytes(tables, [BOS, word, word, BOS], [the, the, word, BOS])
    assert out.tolist() == [3, 4, 3, 0]


def test_target_bytes_checks_its_input(sp):
    tables = ByteTables.from_sentencepiece(sp)
    with pytest.raises(GolfError, match="differ in shape"):
        target_bytes(tables, [1, 2], [3])
    with pytest.raises(GolfError, match="token id 5000 is outside the byte tables"):
        target_bytes(tables, [1, 2], [3, 5000])
    with pytest.raises(GolfError, match="negative token id -1"):
        target_bytes(tables, [1, -1], [3, 4])


def test_load_processor_errors(tmp_path):
    with pytest.raises(GolfError, match="no such tokenizer model file"):
        load_processor(tmp_path / "none.model")
    (tmp_path / "junk.model").write_bytes(b"not a model")
    with pytest.raises(GolfError, match="not a SentencePiece model"):
        load_processor(tmp_path / "junk.model")


# ---------------------------------------------------------------- agreement on real text

def test_tables_agree_with_decoding_on_the_smoke_validation_split(sp, val_tokens, val_docs):
    tables = ByteTables.from_sentencepiece(sp)
    lut = stream_bytes(tables, val_tokens)
    assert lut == canonical_bytes(sp, val_tokens) == utf8_len(val_docs)
    assert 2.0 < lut / val_tokens.size < 3.0  # English prose at vocabulary 1024


def test_tables_agree_on_a_train_slice(sp, smoke):
    train = np.asarray(read_shard(smoke[0] / "fineweb_train_000000.bin"))
    bos = np.flatnonzero(train == BOS)
    part = train[: bos[3]]  # the first three whole documents
    assert stream_bytes(ByteTables.from_sentencepiece(sp), part) == canonical_bytes(sp, part)


def test_tables_agree_on_multilingual_text_with_byte_fallback(sp):
    docs = multilingual_docs()
    ids = encode_docs(sp, docs)
    assert any(sp.is_byte(int(t)) for t in ids)  # the smoke vocabulary has no 東 or 🚀
    normalised = [sp.decode(sp.encode(doc)) for doc in docs]
    assert stream_bytes(ByteTables.from_sentencepiece(sp), ids) == utf8_len(normalised) == canonical_bytes(sp, ids)


def test_audit_finds_nothing_wrong_with_the_smoke_tokenizer(sp, val_tokens):
    assert audit_tokenizer(sp, ByteTables.from_sentencepiece(sp), val_tokens[:50_000]) == []


# ---------------------------------------------------------------- fault (a): no standalone "▁"

def _read_varint(buf, pos):
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _varint(value):
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def _fields(buf):
    """(field number, wire type, value, raw bytes) of each field of a protobuf message."""
    pos = 0
    while pos < len(buf):
        start = pos
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value, buf[start:pos]


def without_piece(model: bytes, piece: str) -> bytes:
    """The model with `piece` made UNUSED (ModelProto.pieces is field 1, SentencePiece.type field 3,
    UNUSED = 5), so the encoder can no longer produce it: a vocabulary without that piece."""
    out = bytearray()
    for number, wire, value, raw in _fields(model):
        if number == 1 and wire == 2:
            inner = list(_fields(value))
            if any(n == 1 and v == piece.encode("utf-8") for n, _, v, _ in inner):
                body = b"".join(r for n, _, _, r in inner if n != 3) + _varint(3 << 3) + _varint(5)
                raw = _varint((1 << 3) | 2) + _varint(len(body)) + body
        out += raw
    return bytes(out)


@pytest.fixture(scope="module")
def no_space_sp(smoke):
    processor = spm.SentencePieceProcessor(model_proto=without_piece(smoke[1].read_bytes(), "\u2581"))
    assert processor.is_unused(processor.piece_to_id("\u2581"))
    return processor


def count_space_fallbacks(processor, ids):
    a, b, c = (processor.piece_to_id(f"<0x{x:02X}>") for x in "\u2581".encode("utf-8"))
    return int(np.count_nonzero((ids[:-2] == a) & (ids[1:-1] == b) & (ids[2:] == c)))


def test_fault_a_missing_space_piece_counts_three_bytes_per_lone_space(no_space_sp, val_docs):
    ids = encode_docs(no_space_sp, val_docs)
    fallbacks = count_space_fallbacks(no_space_sp, ids)
    assert fallbacks > 1000  # spaces before punctuation, digits and rare letters cannot merge
    lut = stream_bytes(ByteTables.from_sentencepiece(no_space_sp), ids)
    true_bytes = utf8_len(val_docs)
    # Each lone space became 3 byte tokens of 1 byte each: 2 bytes too many per space.
    assert lut - true_bytes == 2 * fallbacks
    assert 0.01 < (lut - true_bytes) / true_bytes < 0.05  # measured +1.9% on this text
    # Decoding does not catch it either: the bytes E2 96 81 decode to a literal "▁", 3 bytes.
    assert canonical_bytes(no_space_sp, ids) == lut


def test_audit_detects_fault_a(no_space_sp, val_docs):
    problems = audit_tokenizer(no_space_sp, sample_ids=encode_docs(no_space_sp, val_docs[:1]))
    assert any("no standalone" in p for p in problems)
    assert any("through byte fallback" in p for p in problems)


# ---------------------------------------------------------------- fault (b): byte tokens as 3 bytes

def test_fault_b_byte_tokens_counted_as_three_bytes_inflate_the_count(sp):
    docs = multilingual_docs()
    ids = encode_docs(sp, docs)
    good = ByteTables.from_sentencepiece(sp)
    faulty = ByteTables(good.base_bytes.copy(), good.has_leading_space, good.is_boundary)
    byte_ids = [t for t in range(sp.get_piece_size()) if sp.is_byte(t)]
    faulty.base_bytes[byte_ids] = 3  # the length of U+FFFD, as the Scylla metadata stored it
    byte_targets = sum(1 for t in ids[1:] if sp.is_byte(int(t)))
    assert byte_targets > 20
    true_bytes = canonical_bytes(sp, ids)
    assert stream_bytes(good, ids) == true_bytes
    assert stream_bytes(faulty, ids) - true_bytes == 2 * byte_targets
    problems = audit_tokenizer(sp, faulty)
    assert len(problems) == 1 and "256 byte-fallback tokens have base_bytes [3]" in problems[0]


# ---------------------------------------------------------------- fault (c): the space counted twice

def test_fault_c_table_with_the_space_in_base_bytes_double_counts_spaces(sp, val_docs):
    docs = val_docs[:2]
    ids = encode_docs(sp, docs)
    good = ByteTables.from_sentencepiece(sp)
    faulty = ByteTables(good.base_bytes + good.has_leading_space, good.has_leading_space, good.is_boundary)
    true_bytes = utf8_len(docs)
    spaces = sum(doc.count(" ") for doc in docs)
    assert stream_bytes(good, ids) == true_bytes
    # Every space is carried by one "▁" piece; the faulty table counts it again.
    assert stream_bytes(faulty, ids) - true_bytes == spaces
    assert spaces / true_bytes > 0.1
    problems = audit_tokenizer(sp, faulty, ids)
    assert any("double count" in p for p in problems)
    assert any("the tables count" in p and "decoded text has" in p for p in problems)


def test_audit_reports_other_table_differences(sp):
    good = ByteTables.from_sentencepiece(sp)
    other = ByteTables(good.base_bytes.copy(), good.has_leading_space.copy(), good.is_boundary.copy())
    other.base_bytes[500] += 5
    other.is_boundary[600] = True
    problems = audit_tokenizer(sp, other)
    assert any("1 other entries of base_bytes" in p for p in problems)
    assert any("is_boundary differs" in p for p in problems)
    short = ByteTables(good.base_bytes[:10], good.has_leading_space[:10], good.is_boundary[:10])
    assert any("tables have 10 entries" in p for p in audit_tokenizer(sp, short))


def test_byte_tables_reject_mismatched_arrays():
    with pytest.raises(GolfError, match="three 1-D arrays"):
        ByteTables(np.zeros(3), np.zeros(4, bool), np.zeros(3, bool))
