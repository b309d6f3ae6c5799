"""A record's environment is untrusted: which knobs it may set for `golf eval` and reruns, and the
limits the evaluation worker runs under.

A record may set (in submission.json `run.env`, or on the command line of its README):
- the knobs of golf's reference trainer and the documented run variables (TRAINER_KNOBS), and
- knobs of its own script: UPPER_SNAKE names outside the namespaces of the interpreter, the loader,
  torch, CUDA, NCCL, OpenMP and the shell (RESERVED_PREFIXES / RESERVED_NAMES).
Everything else is refused with a message naming the file and the key. torch's own safety switches
(TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD, ...) fall under TORCH* and so can never come from a record:
with that one set, loading a pickled artifact runs the code inside it.
"""

from __future__ import annotations

import re

from golf.errors import GolfError

TRAINER_KNOBS = frozenset({
    "ADAM_EPS", "BETA1", "BETA2", "COMPILE", "DATA_PATH", "EMBED_LR", "EVAL_BATCH_SEQS", "EVAL_SEQ_LEN",
    "EVAL_STRIDE", "GRAD_CLIP_NORM", "HEAD_LR", "INT8_KEEP_FLOAT_FP32_NAME_PATTERNS", "ITERATIONS",
    "LOGIT_SOFTCAP", "MATRIX_LR", "MAX_WALLCLOCK_SECONDS", "MLP_MULT", "MODEL_DIM", "MUON_BACKEND_STEPS",
    "MUON_MOMENTUM", "MUON_MOMENTUM_WARMUP_START", "MUON_MOMENTUM_WARMUP_STEPS", "NUM_HEADS", "NUM_KV_HEADS",
    "NUM_LAYERS", "QK_GAIN_INIT", "ROPE_BASE", "RUN_ID", "SCALAR_LR", "SEED", "TIED_EMBED_INIT_STD",
    "TIED_EMBED_LR", "TIE_EMBEDDINGS", "TOKENIZER_PATH", "TRAIN_BATCH_TOKENS", "TRAIN_LOG_EVERY",
    "TRAIN_SEQ_LEN", "VAL_BATCH_SIZE", "VAL_LOSS_EVERY", "VOCAB_SIZE", "WARMDOWN_ITERS", "WARMUP_STEPS",
})
KNOB_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
RESERVED_PREFIXES = ("TORCH", "PYTORCH", "PYTHON", "LD_", "DYLD_", "CUDA", "CUBLAS", "CUDNN", "NCCL", "NVIDIA",
                     "OMP_", "KMP_", "GOMP_", "MKL_", "OPENBLAS", "TRITON", "HF_", "HUGGINGFACE", "GIT_", "SSH_",
                     "LC_", "XDG_", "MALLOC", "GLIBC", "GOLF_")
RESERVED_NAMES = frozenset({"PATH", "HOME", "USER", "LOGNAME", "SHELL", "ENV", "BASH_ENV", "IFS", "PS4", "PWD",
                            "TMPDIR", "TEMP", "TMP", "TERM", "TZ", "LANG", "LANGUAGE", "RANK", "LOCAL_RANK",
                            "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT"})
MAX_VALUE_CHARS = 4096

# Limits of the `golf eval` worker. The address-space limit applies on CPU only: CUDA reserves far
# more virtual memory than it uses, so on a GPU the time limit is the bound.
WORKER_MEMORY_BYTES = 16 * 1024**3
WORKER_TIMEOUT_S = 6 * 3600


def knob_problem(key, value) -> str | None:
    """Why a record may not set `key`=`value`, or None when it may."""
    if not isinstance(key, str) or not KNOB_NAME.fullmatch(key):
        return f"{key!r} is not a knob name (UPPER_SNAKE letters, digits and _)"
    if key not in TRAINER_KNOBS and (key in RESERVED_NAMES or key.startswith(RESERVED_PREFIXES)):
        return f"{key} belongs to the interpreter, torch, the GPU stack or the shell, not to the record"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return f"{key}: the value must be text or a number, not {type(value).__name__}"
    text = str(value)
    if "\0" in text:
        return f"{key}: the value holds a NUL character"
    if len(text) > MAX_VALUE_CHARS:
        return f"{key}: the value is longer than {MAX_VALUE_CHARS} characters"
    return None


def split_record_env(env: dict) -> tuple[dict[str, str], list[str]]:
    """The entries of a record's environment a record may set (as strings), and why each other one is refused."""
    kept, refused = {}, []
    for key, value in env.items():
        problem = knob_problem(key, value)
        if problem:
            refused.append(problem)
        else:
            kept[key] = str(value)
    return kept, refused


def record_knobs(env: dict, source: str) -> dict[str, str]:
    """The knobs of a record's environment; any entry a record may not set is an error naming
    `source` (the file and field it came from) and every refused key."""
    kept, refused = split_record_env(env)
    if refused:
        raise GolfError(f"{source}: refusing the record's environment: " + "; ".join(refused)
                        + " (a knob you trust can be passed with --env)")
    return kept


def user_knob(key: str, value: str, option: str = "--env") -> None:
    """A knob typed on the command line is the user's choice, but torch's safety switches stay off and
    the operating system cannot take a NUL or an '=' in a name."""
    if not key or "=" in key or "\0" in key or "\0" in value:
        raise GolfError(f"{option} {key}={value!r}: not a usable environment entry")
    if key.startswith(("TORCH_FORCE", "TORCH_LOAD")):
        raise GolfError(f"{option} {key}: golf never turns off torch's safe loading")


def limit_worker(memory_bytes: int | None):
    """A preexec function that bounds the worker's address space (when `memory_bytes`) and core files."""
    def apply() -> None:
        import resource

        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


# What the worker lets zlib and lzma return in one call: the record's own loader decompresses its
# artifact, so the bound is put on the library functions before the record's script is imported.
DECOMPRESSED_LIMIT = 2_000_000_000


def bound_decompression(limit: int = DECOMPRESSED_LIMIT) -> None:
    """Replace zlib.decompress and lzma.decompress in this process with versions that refuse to
    produce more than `limit` bytes (a 14 MB zlib bomb inflates to gigabytes)."""
    import lzma
    import zlib

    def zlib_decompress(data, /, wbits=zlib.MAX_WBITS, bufsize=zlib.DEF_BUF_SIZE):
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(data, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise zlib.error(f"decompressed data larger than golf's limit of {limit:,} bytes")
        if not inflater.eof:
            raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
        return out

    def lzma_decompress(data, format=lzma.FORMAT_AUTO, memlimit=None, filters=None):
        parts, total = [], 0
        while True:
            decoder = lzma.LZMADecompressor(format, memlimit, filters)
            out = decoder.decompress(data, limit + 1 - total)
            total += len(out)
            parts.append(out)
            if total > limit or (not decoder.eof and not decoder.needs_input):
                raise lzma.LZMAError(f"decompressed data larger than golf's limit of {limit:,} bytes")
            if not decoder.eof:
                raise lzma.LZMAError("Compressed data ended before the end-of-stream marker was reached")
            data = decoder.unused_data
            if not data:
                return b"".join(parts)

    zlib.decompress = zlib_decompress
    lzma.decompress = lzma_decompress
