"""Byte accounting for val_bpb (spec 1.9): per-token byte tables and an independent canonical count.

The challenge converts nats/token into bits/byte with three lookup tables built from the
SentencePiece model. `canonical_bytes` counts the same thing a different way (decode the ids
to text and measure its UTF-8 length), so the two can be compared, and `audit_tokenizer`
names the known ways a tokenizer or a hand-made table makes them disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from golf.errors import GolfError

SPACE_MARK = "\u2581"  # "▁", SentencePiece's whitespace symbol
SPACE_MARK_UTF8 = SPACE_MARK.encode("utf-8")


def load_processor(model):
    """A SentencePieceProcessor from a path (checked) or an existing processor."""
    import sentencepiece as spm

    if isinstance(model, spm.SentencePieceProcessor):
        return model
    path = Path(model)
    if not path.is_file():
        raise GolfError(f"{path}: no such tokenizer model file")
    processor = spm.SentencePieceProcessor()
    try:
        processor.Load(str(path))
    except (OSError, RuntimeError) as error:
        raise GolfError(f"{path}: not a SentencePiece model ({error})") from None
    return processor


@dataclass
class ByteTables:
    """Per-token-id tables: bytes of the piece, whether it starts with "▁", whether it is a boundary."""

    base_bytes: np.ndarray  # int16
    has_leading_space: np.ndarray  # bool
    is_boundary: np.ndarray  # bool

    def __post_init__(self):
        self.base_bytes = np.asarray(self.base_bytes, dtype=np.int16)
        self.has_leading_space = np.asarray(self.has_leading_space, dtype=bool)
        self.is_boundary = np.asarray(self.is_boundary, dtype=bool)
        sizes = {self.base_bytes.shape, self.has_leading_space.shape, self.is_boundary.shape}
        if len(sizes) != 1 or self.base_bytes.ndim != 1:
            raise GolfError(f"byte tables must be three 1-D arrays of one length, got shapes {sorted(sizes)}")
        # target_bytes needs "previous token is not a boundary"; keep it ready.
        self._not_boundary = ~self.is_boundary

    @property
    def size(self) -> int:
        return int(self.base_bytes.size)

    @classmethod
    def from_sentencepiece(cls, model, vocab_size: int | None = None) -> "ByteTables":
        """The tables exactly as the baseline builds them (spec 1.9); size max(sp vocab, vocab_size)."""
        sp = load_processor(model)
        sp_size = sp.get_piece_size()
        size = max(sp_size, vocab_size or 0)
        base = np.zeros(size, dtype=np.int16)
        space = np.zeros(size, dtype=bool)
        boundary = np.ones(size, dtype=bool)  # ids beyond the SP vocab stay boundaries
        for token in range(sp_size):
            if sp.is_control(token) or sp.is_unknown(token) or sp.is_unused(token):
                continue
            boundary[token] = False
            if sp.is_byte(token):
                base[token] = 1
                continue
            piece = sp.id_to_piece(token)
            if piece.startswith(SPACE_MARK):
                space[token] = True
                piece = piece[1:]
            base[token] = len(piece.encode("utf-8"))
        return cls(base, space, boundary)


def target_bytes(tables: ByteTables, prev_ids, target_ids) -> np.ndarray:
    """Bytes of each target token: base[y] + (leading_space[y] and not boundary[x]); int16 array.

    Sum the result in a wide type (np.sum does so for int16). Ids outside the tables are an error.
    """
    prev = np.asarray(prev_ids)
    target = np.asarray(target_ids)
    if prev.shape != target.shape:
        raise GolfError(f"prev_ids and target_ids differ in shape: {prev.shape} vs {target.shape}")
    for ids in (prev, target):
        # numpy would wrap a negative index around silently; unsigned ids (shards) cannot be negative.
        if ids.size and ids.dtype.kind == "i" and int(ids.min()) < 0:
            raise GolfError(f"negative token id {int(ids.min())}")
    try:
        # Widen the target ids once: both lookups then index without converting again.
        target = target.astype(np.intp, copy=False)
        out = np.take(tables.base_bytes, target)
        out += np.take(tables.has_leading_space, target) & np.take(tables._not_boundary, prev)
    except IndexError:
        high = max(int(prev.max()), int(target.max()))
        raise GolfError(f"token id {high} is outside the byte tables (size {tables.size})") from None
    return out


def stream_bytes(tables: ByteTables, tokens) -> int:
    """Total LUT bytes of the targets tokens[1:] of a token stream (each predicted from the one before)."""
    tokens = np.asarray(tokens)
    if tokens.size < 2:
        return 0
    return int(target_bytes(tables, tokens[:-1], tokens[1:]).sum(dtype=np.int64))


def canonical_bytes(processor, token_ids) -> int:
    """UTF-8 length of the text the ids decode to, decoding each document separately.

    A BOS id starts a document; control tokens decode to nothing. This is independent of the
    lookup tables and is what they should reproduce for whole documents.
    """
    sp = load_processor(processor)
    ids = np.asarray(token_ids, dtype=np.int64)
    bos = sp.bos_id()
    starts = np.flatnonzero(ids == bos) if bos >= 0 else np.zeros(0, dtype=np.int64)
    edges = [0, *starts.tolist(), ids.size]
    total = 0
    for begin, end in zip(edges[:-1], edges[1:]):
        if end > begin:
            total += len(sp.decode(ids[begin:end].tolist()).encode("utf-8"))
    return total


def _byte_fallback_space_runs(sp, tokens: np.ndarray) -> int:
    """How often the three byte tokens of "▁" (E2 96 81) appear in a row in `tokens`."""
    byte_ids = [sp.piece_to_id(f"<0x{b:02X}>") for b in SPACE_MARK_UTF8]
    if tokens.size < 3 or any(sp.is_unknown(i) for i in byte_ids):
        return 0
    a, b, c = byte_ids
    return int(np.count_nonzero((tokens[:-2] == a) & (tokens[1:-1] == b) & (tokens[2:] == c)))


def audit_tokenizer(model, tables: ByteTables | None = None, sample_ids=None) -> list[str]:
    """Known faults of a tokenizer or of its byte tables (spec 1.9 caveats), as messages.

    - no standalone "▁" piece: spaces that cannot merge become 3 byte tokens, counted 3 bytes;
    - byte-fallback tokens with base_bytes other than 1 (e.g. 3, the length of U+FFFD);
    - tables whose base_bytes already include the leading space (the eval loop adds it again);
    - with `sample_ids` (a token stream, BOS-separated documents): LUT total vs the decoded text.
    An empty list means nothing was found.
    """
    sp = load_processor(model)
    problems: list[str] = []
    space_id = sp.piece_to_id(SPACE_MARK)
    if sp.is_unknown(space_id) or sp.is_control(space_id) or sp.is_unused(space_id):
        problems.append(
            'no standalone "\u2581" piece in the vocabulary: a space that cannot merge with the next '
            "piece falls back to 3 byte tokens and is counted as 3 bytes (bpb too low; issue #897)")
    reference = ByteTables.from_sentencepiece(sp, tables.size if tables is not None else None)
    if tables is not None:
        problems.extend(_compare_tables(sp, tables, reference))
    if sample_ids is not None:
        sample = np.asarray(sample_ids, dtype=np.int64)
        lut = stream_bytes(tables if tables is not None else reference, sample)
        canon = canonical_bytes(sp, sample[1:] if sample.size and sample[0] == sp.bos_id() else sample)
        if lut != canon:
            diff = (lut - canon) / canon * 100 if canon else float("inf")
            problems.append(f"on the sample the tables count {lut} bytes but the decoded text has {canon} "
                            f"({diff:+.2f}%)")
        runs = _byte_fallback_space_runs(sp, sample)
        if runs:
            problems.append(f'the sample encodes "\u2581" through byte fallback {runs} times '
                            "(each counted as 3 bytes instead of 1)")
    return problems


def _compare_tables(sp, tables: ByteTables, reference: ByteTables) -> list[str]:
    problems = []
    if tables.size != reference.size:
        return [f"tables have {tables.size} entries, the tokenizer needs {reference.size}"]
    ids = np.arange(sp.get_piece_size())
    is_byte = np.array([sp.is_byte(int(i)) for i in ids], dtype=bool)
    bad_byte = is_byte & (tables.base_bytes[ids] != 1)
    if bad_byte.any():
        values = sorted(set(tables.base_bytes[ids][bad_byte].tolist()))
        problems.append(f"{int(bad_byte.sum())} byte-fallback tokens have base_bytes {values} instead of 1 "
                        "(inflates the byte count; PR #1271)")
    double = reference.has_leading_space & (tables.base_bytes == reference.base_bytes + 1)
    if double.any():
        problems.append(f"{int(double.sum())} pieces with a leading \"\u2581\" already count the space in "
                        "base_bytes, and the eval loop adds it again (double count; PRs #1545, #1576)")
    other = (tables.base_bytes != reference.base_bytes) & ~double
    other[: is_byte.size] &= ~is_byte
    if other.any():
        problems.append(f"{int(other.sum())} other entries of base_bytes differ from the spec tables")
    if (tables.has_leading_space != reference.has_leading_space).any():
        problems.append("has_leading_space differs from the spec tables for "
                        f"{int((tables.has_leading_space != reference.has_leading_space).sum())} tokens")
    if (tables.is_boundary != reference.is_boundary).any():
        problems.append("is_boundary differs from the spec tables for "
                        f"{int((tables.is_boundary != reference.is_boundary).sum())} tokens")
    return problems

