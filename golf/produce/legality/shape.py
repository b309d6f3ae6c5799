"""The tiny shape the prefix-invariance test runs a record's script at, and the two validation streams.

Only the knobs the script reads are set (its `os.environ` names, found by script_check), so a
script's own settings keep their meaning: model size, steps and sequence lengths shrink; test-time
training and evaluation settings (TTT_ENABLED, epochs, learning rates, strides, SLOT steps ...)
stay as the record has them. A knob whose name says it is a chunk of tokens is shrunk so the
stream holds several chunks (one chunk would leave nothing to test: the last chunk is never trained).
"""

from __future__ import annotations

import numpy as np

# The shape: width 64 over 128-token sequences, 6 steps of 8 sequences. The depth stays the record's:
# knobs name layers by index (XSA_LAST_N, VE_LAYERS, RECUR_LAYERS ...), and at width 64 depth is cheap.
TINY_KNOBS = {
    "MODEL_DIM": "64", "NUM_HEADS": "4", "MLP_MULT": "2",
    "ITERATIONS": "6", "WARMUP_STEPS": "0", "WARMDOWN_ITERS": "0", "VAL_LOSS_EVERY": "0", "TRAIN_LOG_EVERY": "1",
    "MAX_WALLCLOCK_SECONDS": "0", "TRAIN_SEQ_LEN": "128", "EVAL_SEQ_LEN": "128", "TRAIN_BATCH_TOKENS": "1024",
    "VAL_BATCH_SIZE": "1024", "VOCAB_SIZE": "1024", "COMPILE": "0", "SEED": "1337",
}
ALWAYS = {"RUN_ID": "golf_legality", "SEED": "1337", "WORLD_SIZE": "1"}
SEQ_LEN = 128
CHUNK_TOKENS = 512           # a chunk knob above a quarter of the stream is set to this
STREAM_TOKENS = 4097         # the validation stream: 32 sequences of 128 targets
DEFAULT_TAIL_FRACTION = 0.6  # P: inside the stream, away from chunk and window edges (see tail_from)


def tiny_knobs(env_names: list[str], defaults: dict[str, str], stream_tokens: int) -> dict[str, str]:
    """The environment for the tiny run: TINY_KNOBS the script reads, plus shrunken chunk sizes and strides."""
    knobs = {k: v for k, v in TINY_KNOBS.items() if k in env_names}
    if "NUM_KV_HEADS" in env_names:
        same = defaults.get("NUM_KV_HEADS") is not None and defaults.get("NUM_KV_HEADS") == defaults.get("NUM_HEADS")
        knobs["NUM_KV_HEADS"] = "4" if same else "2"
    for name in env_names:
        value = _int(defaults.get(name))
        if value is None:
            continue
        if "CHUNK" in name and value > stream_tokens // 4:
            knobs[name] = str(CHUNK_TOKENS)
        elif "STRIDE" in name and value >= SEQ_LEN:
            knobs[name] = str(SEQ_LEN // 2)
    knobs.update(ALWAYS)
    return knobs


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def tail_from(stream_tokens: int) -> int:
    """The default P: 60% into the stream, moved off multiples of 64 so it falls inside a chunk,
    a sequence and a sliding window rather than on an edge."""
    p = int(stream_tokens * DEFAULT_TAIL_FRACTION)
    return p - p % 64 + 37


def changed_tail(tokens: np.ndarray, start: int, vocab_size: int, kept: set[int]) -> np.ndarray:
    """`tokens` with every token from `start` on replaced by the next id (mod vocab) that is not a
    kept control token; kept tokens (document boundaries) stay where they are."""
    out = tokens.copy()
    ordinary = np.array([i for i in range(vocab_size) if i not in kept], dtype=np.int64)
    following = np.empty(vocab_size, dtype=np.int64)
    for i in range(vocab_size):
        position = np.searchsorted(ordinary, i, side="right")
        following[i] = ordinary[position % ordinary.size]
    tail = out[start:].astype(np.int64)
    moved = following[np.clip(tail, 0, vocab_size - 1)]
    keep = np.isin(tail, list(kept)) | (tail >= vocab_size)
    out[start:] = np.where(keep, tail, moved).astype(out.dtype)
    return out
