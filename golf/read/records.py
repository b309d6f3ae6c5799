"""A record folder as data: its files, normalised submission, parsed logs and scripts.

Reading only: nothing here imports or runs code from the folder, and nothing
raises on odd content. Bad JSON, wrong types, unreadable files and symbolic links
that leave the folder become problems or `skipped` entries a check can report.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from golf.errors import GolfError
from golf.io import JSONInputError, UnsafeFile, loads_json, open_regular, read_text, sha256_file
from golf.read.logs import LogParse, Run, parse_log

LOG_SUFFIXES = (".log", ".txt")
# .txt files with these names are documentation or dependency lists, never logs.
NOT_LOGS = ("readme*", "requirements*", "license*", "notice*", "third_party*", "cmakelists.txt")
# A .txt file is a training log only if one of these appears in it.
LOG_MARKERS = (b"val_loss", b"val_bpb", b"train_loss", b"step:")
SKIPPED_DIRS = (".git", "__pycache__", ".golf_cache")
CHUNK = 1 << 20
FOLDER_DATE_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[_-]?(.*)$")
FILENAME_SEED_RES = (
    re.compile(r"seed[_-]?(\d+)", re.IGNORECASE),
    re.compile(r"(?:^|[_-])s(\d+)(?=$|[_-])"),
    re.compile(r"[_-](\d+)$"),
)
JSON_LOG_KEYS = ("log", "log_file", "logfile", "log_path", "file")
# Lines by which a log says it only re-scored a saved model (TTT_EVAL_ONLY=1 and the like).
EVAL_ONLY_LINE_RE = re.compile(rb"(?i)skipping training|\beval[-_ ]only[ _-](?:start|mode|run)\b"
                               rb"|\b(?:ttt_)?eval_only\s*[=:]\s*(?:1|true)\b")
_EVAL_ONLY_WORDS = (b"skipping training", b"eval_only", b"eval-only", b"eval only")   # each match holds one
# Who and what a submission is; the required ones must be present for a claim to be judged or written.
IDENTITY_FIELDS = ("name", "author", "github_id", "date", "track", "blurb")
REQUIRED_IDENTITY = ("name", "author", "github_id")
# A submission.json larger than this is not read (real ones are a few kB).
SUBMISSION_READ_LIMIT = 1_000_000
# Seeds are whole numbers of at most this many digits (2**64 has 20).
MAX_SEED_DIGITS = 30


@dataclass
class Submission:
    """submission.json normalised across the variants seen in records (spec 3.1, 5.5); `raw` is untouched."""

    raw: dict
    path: str
    name: str | None = None
    author: str | None = None
    github_id: str | None = None
    date: str | None = None
    track: str | None = None
    blurb: str | None = None
    val_bpb: float | None = None
    val_loss: float | None = None
    val_bpb_std: float | None = None
    val_loss_std: float | None = None
    bytes_total: int | None = None
    bytes_code: int | None = None
    bytes_model: int | None = None
    seeds: list[int] = field(default_factory=list)
    seed_results: dict[int, dict] = field(default_factory=dict)
    runs: list[dict] = field(default_factory=list)
    reproductions: list[dict] = field(default_factory=list)  # {"log", "by", "source"}: others' runs of this script
    score_label: str | None = None
    keys: dict[str, str] = field(default_factory=dict)   # normalised field -> the raw key it came from
    problems: list[str] = field(default_factory=list)


@dataclass
class RecordLog:
    path: str
    sha256: str
    size: int
    parse: LogParse
    run: Run | None
    seed: int | None = None
    seed_sources: dict[str, int] = field(default_factory=dict)
    duplicate_of: str | None = None
    eval_only_lines: list[tuple[int, str]] = field(default_factory=list)  # (line, text) outside embedded source

    @property
    def seeds_disagree(self) -> bool:
        return len(set(self.seed_sources.values())) > 1


@dataclass
class Record:
    root: Path
    files: list[str] = field(default_factory=list)
    readme_path: str | None = None
    readme: str | None = None
    submission: Submission | None = None
    submission_problems: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    script: str | None = None
    logs: list[RecordLog] = field(default_factory=list)
    reproduction_logs: list[RecordLog] = field(default_factory=list)  # listed under `reproductions`, not counted
    skipped: list[tuple[str, str]] = field(default_factory=list)
    track_dir: str | None = None
    name: str | None = None

    @property
    def unique_logs(self) -> list[RecordLog]:
        """The logs that are not byte-identical copies of an earlier one."""
        return [log for log in self.logs if log.duplicate_of is None]


# ---------------------------------------------------------------------------
# Finding record folders
# ---------------------------------------------------------------------------

def is_record_dir(path: Path) -> bool:
    """A record folder holds, directly, a README.md, a submission*.json, a train_gpt.py or a log golf
    can read (any `.log`, or a `.txt` that is not documentation and holds training or validation lines)."""
    try:
        entries = sorted(path.iterdir())
    except OSError:
        return False
    texts = []
    readme = False
    for entry in entries:
        name = entry.name
        try:
            if not entry.is_file():
                continue
        except OSError:
            continue
        if name == "train_gpt.py" or fnmatch(name, "submission*.json"):
            return True
        readme = readme or name.lower() == "readme.md"
        if is_log_name(name):
            texts.append(entry)
    if any(_reads_as_log(entry) for entry in texts):
        return True
    # A README alone makes a record folder, unless the folder is a collection whose subfolders are records.
    return readme and not any(_holds_records(entry) for entry in entries)


def _holds_records(entry: Path) -> bool:
    """A subfolder holding a record's script or submission JSON directly (a folder of logs beside a README
    is that record's, not a record of its own)."""
    if entry.name in SKIPPED_DIRS or is_hidden(entry.name) or entry.is_symlink() or not _is_dir(entry):
        return False
    try:
        children = sorted(entry.iterdir())
    except OSError:
        return False
    for child in children:
        try:
            if not child.is_file():
                continue
        except OSError:
            continue
        if child.name == "train_gpt.py" or fnmatch(child.name, "submission*.json"):
            return True
    return False


def _reads_as_log(path: Path) -> bool:
    try:
        return looks_like_log(path)
    except OSError:
        return False


def find_record_dirs(path: str | os.PathLike, unreadable: list[tuple[Path, str]] | None = None) -> list[Path]:
    """`path` itself when it is a record folder, else every record folder below it (e.g. records/).

    The walk uses a stack, not recursion, so any depth works. A folder that cannot be listed is
    passed over (and appended to `unreadable` with the reason when a list is given), so the
    readable records beside it are still found.
    """
    root = Path(path)
    if not root.is_dir():
        raise GolfError(f"{root}: not a folder")
    found = []
    stack = [root]
    while stack:
        folder = stack.pop()
        if is_record_dir(folder):
            found.append(folder)
            continue
        try:
            children = sorted(folder.iterdir(), reverse=True)
        except OSError as error:
            if unreadable is not None:
                unreadable.append((folder, error.strerror or str(error)))
            continue
        stack.extend(child for child in children if child.name not in SKIPPED_DIRS and not is_hidden(child.name)
                     and not child.is_symlink() and _is_dir(child))
    return found


def is_hidden(name: str) -> bool:
    """A hidden file or folder (`.ipynb_checkpoints`, `.cache`): an editor's or a tool's, never a record's."""
    return name.startswith(".") and name not in (".", "..")


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Loading one record
# ---------------------------------------------------------------------------

def load_record(path: str | os.PathLike) -> Record:
    root = Path(path)
    if not root.is_dir():
        raise GolfError(f"{root}: not a record folder (not a folder)")
    record = Record(root=root, track_dir=root.resolve().parent.name)
    record.files, record.skipped = list_files(root)
    record.readme_path, record.readme = _readme(root, record.files, record.skipped)
    record.submission, record.submission_problems = _submission(root, record.files)
    record.scripts = [f for f in record.files if f.endswith(".py")]
    record.script = "train_gpt.py" if "train_gpt.py" in record.files else None
    reproduced = {r["log"] for r in record.submission.reproductions} if record.submission else set()
    record.logs = _logs(root, [f for f in record.files if f not in reproduced], record.submission, record.skipped)
    record.reproduction_logs = read_logs(root, [f for f in record.files if f in reproduced], record.skipped)
    match = FOLDER_DATE_RE.match(root.resolve().name)
    record.name = (record.submission.name if record.submission and record.submission.name
                   else (match.group(2) if match and match.group(2) else root.resolve().name))
    return record


def list_files(root: Path) -> tuple[list[str], list[tuple[str, str]]]:
    """Relative posix paths of the plain files under `root`, and what was skipped and why."""
    files: list[str] = []
    skipped: list[tuple[str, str]] = []
    real_root = root.resolve()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(folder.iterdir())
        except OSError as error:
            skipped.append((_rel(folder, root), f"unreadable folder: {error.strerror or error}"))
            continue
        for entry in entries:
            rel = _rel(entry, root)
            if entry.is_symlink():
                reason = _symlink_reason(entry, real_root)
                if reason:
                    skipped.append((rel, reason))
                    continue
            if _is_dir(entry):
                if entry.name in SKIPPED_DIRS:
                    skipped.append((rel, "tool folder, not part of a record"))
                elif entry.is_symlink():
                    skipped.append((rel, "symbolic link to a folder (not followed)"))
                else:
                    stack.append(entry)
            elif entry.is_file():
                files.append(rel)
            else:
                skipped.append((rel, "not a plain file"))
    return sorted(files), sorted(skipped)


def _symlink_reason(entry: Path, real_root: Path) -> str | None:
    try:
        target = entry.resolve(strict=True)
    except (OSError, RuntimeError):
        return f"broken symbolic link -> {os.readlink(entry)}"
    if target != real_root and real_root not in target.parents:
        return f"symbolic link leaving the record folder -> {os.readlink(entry)}"
    return None


def _rel(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _readme(root: Path, files: list[str], skipped) -> tuple[str | None, str | None]:
    name = next((f for f in files if f.lower() == "readme.md"), None)
    if name is None:
        return None, None
    try:
        return name, read_text(root / name, errors="replace")
    except OSError as error:
        skipped.append((name, f"unreadable: {error.strerror or error}"))
        return name, None


# ---------------------------------------------------------------------------
# submission.json
# ---------------------------------------------------------------------------

def read_submission(root: Path) -> tuple[Submission | None, list[str]]:
    """The folder's submission JSON alone (the plain files directly in it), without reading its logs."""
    try:
        files = sorted(p.name for p in Path(root).iterdir() if p.is_file() and not p.is_symlink())
    except OSError:
        return None, []
    return _submission(Path(root), files)


def _submission(root: Path, files: list[str]) -> tuple[Submission | None, list[str]]:
    candidates = [f for f in files if "/" not in f and fnmatch(f, "submission*.json")]
    if not candidates:
        return None, []
    chosen = "submission.json" if "submission.json" in candidates else candidates[0]
    problems = [f"{chosen}: more than one submission file ({', '.join(candidates)}); read {chosen}"] \
        if len(candidates) > 1 else []
    try:
        text = read_text(root / chosen, SUBMISSION_READ_LIMIT)
    except UnsafeFile as error:
        return None, problems + [f"{chosen}: unreadable: {error.strerror}"]
    except OSError as error:
        return None, problems + [f"{chosen}: unreadable: {error.strerror or error}"]
    except UnicodeDecodeError as error:
        return None, problems + [f"{chosen}: unreadable: not UTF-8 text (byte {error.start})"]
    if not text.strip():
        return None, problems + [f"{chosen}: empty file"]
    try:
        raw = loads_json(text, allow_nan=True)   # reported per field below
    except json.JSONDecodeError as error:
        return None, problems + [f"{chosen}: invalid JSON: {error.msg} at line {error.lineno} column {error.colno}"]
    except JSONInputError as error:
        return None, problems + [f"{chosen}: refused: {error}"]
    if not isinstance(raw, dict):
        return None, problems + [f"{chosen}: expected a JSON object, found {type(raw).__name__}"]
    submission = normalise_submission(raw, chosen)
    return submission, problems + submission.problems


def normalise_submission(raw: dict, path: str = "submission.json") -> Submission:
    """One Submission from any of the practised key sets; every oddity becomes a problem."""
    sub = Submission(raw=raw, path=path)
    for name in (*IDENTITY_FIELDS, "score_label"):
        setattr(sub, name, _text(sub, raw, name))
    if sub.score_label is None and isinstance(raw.get("score"), dict) and raw["score"].get("label") is not None:
        sub.score_label = _text(sub, raw["score"], "label", "score.label")
    sub.val_bpb = _first_number(sub, raw, "val_bpb", ("val_bpb", "mean_val_bpb", "mean_bpb"))
    sub.val_loss = _first_number(sub, raw, "val_loss", ("val_loss", "mean_val_loss"))
    if sub.val_bpb is None and sub.val_loss is not None:
        sub.problems.append(f"{path}: no val_bpb; `val_loss` ({sub.val_loss}) may hold the bpb mean (spec 5.5)")
    sub.val_bpb_std = _first_number(sub, raw, "val_bpb_std", ("val_bpb_std", "std_val_bpb", "bpb_std"))
    sub.val_loss_std = _first_number(sub, raw, "val_loss_std", ("val_loss_std", "std_val_loss"))
    sub.bytes_total = _first_int(sub, raw, "bytes_total", ("bytes_total", "artifact_bytes", "artifact_size_bytes",
                                                             "artifact_bytes_max", "artifact_bytes_mean"))
    if sub.keys.get("bytes_total", "bytes_total") != "bytes_total":
        sub.problems.append(f"{path}: size given as `{sub.keys['bytes_total']}`, which may exclude the code bytes")
    sub.bytes_code = _first_int(sub, raw, "bytes_code", ("bytes_code", "code_bytes"))
    model_keys = ["bytes_model", "model_bytes"] + sorted(k for k in raw if k.startswith("bytes_model_"))
    sub.bytes_model = _first_int(sub, raw, "bytes_model", tuple(model_keys))
    sub.seed_results = _seed_results(sub, raw.get("seed_results"))
    sub.runs = _runs(sub, raw.get("runs"))
    sub.reproductions = _reproductions(sub, raw.get("reproductions"))
    sub.seeds = _seeds(sub, raw.get("seeds"))
    if not sub.seeds:
        sub.seeds = sorted(set(sub.seed_results) | {r["seed"] for r in sub.runs if isinstance(r.get("seed"), int)})
    return sub


def _text(sub: Submission, raw: dict, key: str, label: str | None = None) -> str | None:
    value = raw.get(key)
    label = label or key
    if key in raw and value is None:
        sub.problems.append(f"{sub.path}: `{label}` is null")
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key in ("github_id", "name"):
        sub.problems.append(f"{sub.path}: `{label}` is a number, expected text")
        return str(value)
    if not isinstance(value, str):
        sub.problems.append(f"{sub.path}: `{label}` must be text, found {type(value).__name__}")
        return None
    return value


def _number(sub: Submission, value, label: str) -> float | None:
    """A finite float from a JSON value; strings of numbers are accepted with a problem."""
    if value is None:
        sub.problems.append(f"{sub.path}: `{label}` is null")
        return None
    if isinstance(value, bool):
        sub.problems.append(f"{sub.path}: `{label}` is a boolean, expected a number")
        return None
    if isinstance(value, str):
        try:
            if len(value) > 100:
                raise ValueError(value)
            number = float(value.strip())
        except ValueError:
            sub.problems.append(f"{sub.path}: `{label}` is not a number: {value!r}")
            return None
        sub.problems.append(f"{sub.path}: `{label}` is a string, expected a number")
        value = number
    if not isinstance(value, (int, float)):
        sub.problems.append(f"{sub.path}: `{label}` must be a number, found {type(value).__name__}")
        return None
    if not math.isfinite(value):
        sub.problems.append(f"{sub.path}: `{label}` is not finite ({value})")
        return None
    return float(value)


def _first_number(sub: Submission, raw: dict, field_name: str, keys: tuple[str, ...]) -> float | None:
    for key in keys:
        if key in raw:
            sub.keys[field_name] = key
            return _number(sub, raw[key], key)
    return None


def _first_int(sub: Submission, raw: dict, field_name: str, keys: tuple[str, ...]) -> int | None:
    number = _first_number(sub, raw, field_name, keys)
    if number is None:
        return None
    if number != int(number) or number < 0 or number > 10**15:
        sub.problems.append(f"{sub.path}: `{sub.keys[field_name]}` is not a whole number of bytes: {number}")
        return None
    return int(number)


def _seed(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < 10**MAX_SEED_DIGITS else None
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return _seed(int(value))
    if isinstance(value, str):
        match = re.fullmatch(r"\s*+(?:seed[_-]?|s)?(\d{1,%d})\s*" % MAX_SEED_DIGITS, value, re.IGNORECASE)
        return int(match.group(1)) if match else None
    return None


def parse_seed(value) -> int | None:
    """A seed as submission.json writes it (42, "42", "seed42", "s42"), or None."""
    return _seed(value)


def _seeds(sub: Submission, value) -> list[int]:
    if value is None:
        return []
    items = list(value) if isinstance(value, (list, dict)) else None
    if items is None:
        single = _seed(value)
        if single is None:
            sub.problems.append(f"{sub.path}: `seeds` must be a list or an object, found {type(value).__name__}")
            return []
        return [single]
    seeds = []
    for item in items:
        seed = _seed(item)
        if seed is None:
            sub.problems.append(f"{sub.path}: `seeds` entry {item!r} is not a seed number")
        elif seed not in seeds:
            seeds.append(seed)
    return seeds


def _seed_results(sub: Submission, value) -> dict[int, dict]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        sub.problems.append(f"{sub.path}: `seed_results` must be an object keyed by seed")
        return {}
    results = {}
    for key, entry in value.items():
        seed = _seed(key)
        if seed is None:
            sub.problems.append(f"{sub.path}: `seed_results` key {key!r} is not a seed number")
        elif not isinstance(entry, dict):
            sub.problems.append(f"{sub.path}: `seed_results[{key!r}]` must be an object")
        else:
            results[seed] = entry
    return results


def _runs(sub: Submission, value) -> list[dict]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        sub.problems.append(f"{sub.path}: `runs` must be a list of objects")
        return []
    return [dict(r, seed=_seed(r.get("seed"))) for r in value]


def _reproductions(sub: Submission, value) -> list[dict]:
    """`reproductions`: [{"log": "repro/seed7.log", "by": "who ran it", "source": "where it was reported"}]."""
    if value is None:
        return []
    shape = f"{sub.path}: `reproductions` must be a list of {{\"log\", \"by\", \"source\"}} objects"
    if not isinstance(value, list):
        sub.problems.append(shape)
        return []
    out = []
    for i, entry in enumerate(value):
        log = entry.get("log") if isinstance(entry, dict) else None
        by = entry.get("by") if isinstance(entry, dict) else None
        if not isinstance(log, str) or not log.strip() or not isinstance(by, str) or not by.strip():
            sub.problems.append(f"{shape}; entry {i} needs a `log` path and who ran it (`by`)")
            continue
        source = entry.get("source")
        out.append({"log": PurePosixPath(log.strip()).as_posix().removeprefix("./"), "by": by.strip(),
                    "source": source.strip() if isinstance(source, str) and source.strip() else None})
    return out


# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

def is_log_name(rel: str) -> bool:
    name = rel.rsplit("/", 1)[-1].lower()
    return name.endswith(LOG_SUFFIXES) and not any(fnmatch(name, pattern) for pattern in NOT_LOGS)


def looks_like_log(path: Path) -> bool:
    """A .log file is a log by name; a .txt file only when it mentions training or validation."""
    if path.suffix.lower() == ".log":
        return True
    tail = b""
    with open_regular(path, None) as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            window = tail + block
            if any(marker in window for marker in LOG_MARKERS):
                return True
            tail = block[-16:]
    return False


def read_logs(root: Path, files: list[str], skipped) -> list[RecordLog]:
    """The logs among `files` (relative to root), parsed, with the seed the log or its name states;
    byte-identical copies point at the first."""
    logs = []
    first_by_hash: dict[str, str] = {}
    for rel in files:
        if not is_log_name(rel):
            continue
        path = root / rel
        try:
            if not looks_like_log(path):
                continue
            digest = sha256_file(path)
            size = path.stat().st_size
            parsed = parse_log(path)
            marks = eval_only_lines(path, [(r.source_first_line, r.source_last_line) for r in parsed.runs
                                           if r.source_first_line is not None])
        except OSError as error:
            skipped.append((rel, f"unreadable: {error.strerror or error}"))
            continue
        except Exception as error:  # a bug in the grammar must not hide the record's other logs
            skipped.append((rel, f"unreadable: golf could not parse it ({type(error).__name__}: {error})"))
            continue
        parsed.name = rel
        log = RecordLog(path=rel, sha256=digest, size=size, parse=parsed, run=parsed.run, eval_only_lines=marks)
        log.duplicate_of = first_by_hash.get(digest)   # files are sorted: the first path is the original
        first_by_hash.setdefault(digest, rel)
        _resolve_seed(log, {}, None)
        logs.append(log)
    return logs


def eval_only_lines(path: Path, source_lines: list[tuple[int, int | None]]) -> list[tuple[int, str]]:
    """The lines of a log, outside its embedded source, that say the run skipped training and only
    re-scored a saved model ("skipping training", "EVAL-ONLY START", `ttt_eval_only: 1`)."""
    found: list[tuple[int, str]] = []
    number = 0
    carry = b""
    with open_regular(path, None) as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            data, carry = data[:cut], data[cut:]
            number = _marks(data, number, source_lines, found)
    if carry:
        _marks(carry + b"\n", number, source_lines, found)
    return found[:10]


def _marks(data: bytes, number: int, source_lines, found: list) -> int:
    """Lines of `data` (whole lines, the first numbered number+1) matching EVAL_ONLY_LINE_RE; the last number."""
    low = data.lower()
    if not any(word in low for word in _EVAL_ONLY_WORDS):
        return number + data.count(b"\n")   # the common case: substring tests are far cheaper than the regex
    position = 0
    for match in EVAL_ONLY_LINE_RE.finditer(data):
        start = data.rfind(b"\n", 0, match.start()) + 1
        if start < position:
            continue   # a second match on a line already taken
        line_no = number + data.count(b"\n", 0, start) + 1
        end = data.find(b"\n", match.end())
        position = end + 1
        if not any(first <= line_no <= (last or first) for first, last in source_lines):
            found.append((line_no, data[start:end].decode("utf-8", "replace").strip()[:200]))
    return number + data.count(b"\n")


def _logs(root: Path, files: list[str], submission: Submission | None, skipped) -> list[RecordLog]:
    logs = read_logs(root, files, skipped)
    json_seeds = _json_log_seeds(submission)
    by_score = _json_seeds_by_score(submission, [log for log in logs if log.duplicate_of is None])
    for log in logs:
        _resolve_seed(log, json_seeds, by_score.get(log.duplicate_of or log.path))
    return logs


def filename_seed(rel: str) -> int | None:
    """The seed a log's file name states: seed42, seed_42, s42, _42 (at the end of the stem)."""
    stem = rel.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    for pattern in FILENAME_SEED_RES:
        match = pattern.search(stem)
        if match:
            return int(match.group(1)) if len(match.group(1)) <= MAX_SEED_DIGITS else None
    return None


def _json_log_seeds(submission: Submission | None) -> dict[str, int]:
    """Log path (or file name) -> seed, where the submission ties a seed to a log file."""
    if submission is None:
        return {}
    mapping = {}
    entries = [(seed, entry) for seed, entry in submission.seed_results.items()]
    entries += [(run.get("seed"), run) for run in submission.runs]
    for seed, entry in entries:
        if seed is None:
            continue
        for key in JSON_LOG_KEYS:
            value = entry.get(key)
            if isinstance(value, str) and value.strip():
                mapping[value.strip().removeprefix("./")] = seed
    return mapping


def _decimals(value: float) -> int:
    from golf.read.numerals import decimal_places

    return decimal_places(repr(float(value)))


def _json_seeds_by_score(submission: Submission | None, logs: list[RecordLog]) -> dict[str, int]:
    """Log path -> seed, where a `seed_results` val_bpb matches a score in exactly one log
    (to the decimals the JSON gives) and that log matches no other seed's result."""
    if submission is None:
        return {}
    matches: dict[str, list[int]] = {}
    for seed, entry in submission.seed_results.items():
        value = entry.get("val_bpb")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        tolerance = 0.5 * 10 ** -_decimals(value) + 1e-12
        hits = [log.path for log in logs if log.run is not None
                and any(score.finite and abs(score.val_bpb - value) <= tolerance for score in log.run.scores)]
        if len(hits) == 1:
            matches.setdefault(hits[0], []).append(seed)
    return {path: seeds[0] for path, seeds in matches.items() if len(seeds) == 1}


def _resolve_seed(log: RecordLog, json_seeds: dict[str, int], json_by_score: int | None) -> None:
    if log.run is not None and log.run.seed is not None:
        log.seed_sources["log"] = log.run.seed
    from_name = filename_seed(log.path)
    if from_name is not None:
        log.seed_sources["filename"] = from_name
    basename = log.path.rsplit("/", 1)[-1]
    from_json = json_seeds.get(log.path, json_seeds.get(basename, json_by_score))
    if from_json is not None:
        log.seed_sources["json"] = from_json
    for source in ("log", "json", "filename"):
        if source in log.seed_sources:
            log.seed = log.seed_sources[source]
            break


__all__ = ["IDENTITY_FIELDS", "REQUIRED_IDENTITY", "Record", "RecordLog", "Submission", "filename_seed",
           "find_record_dirs", "is_record_dir", "list_files", "load_record", "normalise_submission", "parse_seed", "read_logs",
           "read_submission"]
