"""Rulesets as data files and the code that loads them.

A ruleset is one versioned TOML file in this package (e.g. parameter_golf_2026.toml); one may
`extends` another and write only its differences.
Every cap, time limit, label pattern and statistics setting golf judges by is
read from it; code never writes those numbers itself.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError

DEFAULT_RULESET = "parameter_golf_2026"
GATES = ("one-sample", "welch")
UNITS = ("bpb", "nats")
CODE_BYTES_POLICIES = ("shipped_script", "packed")
REFERENCES = ("best", "frontier")


@dataclass(frozen=True)
class Track:
    name: str
    aliases: tuple[str, ...]
    byte_cap: int
    train_time_limit_ms: int | None
    train_time_tolerance_ms: int
    eval_time_limit_ms: int | None
    hardware: str
    processes: int
    record: bool
    description: str = ""
    hardware_pattern: str | None = None
    preset: dict[str, str] = field(default_factory=dict)   # the settings `golf train` runs with by default

    def command(self, script: str = "train_gpt.py") -> str:
        """The launch command a run of this track uses."""
        return f"torchrun --standalone --nproc_per_node={self.processes} {script}"


@dataclass(frozen=True)
class CodeBytesPolicy:
    policy: str
    script: str
    extra_runtime_files: str
    packed_tolerance_bytes: int = 0   # how far a log's `Code size (compressed)` may be from golf's own figure


@dataclass(frozen=True)
class DataExport:
    """The canonical export of one tokenizer's data: its train shard count and validation token counts."""

    train_shards: int
    val_tokens: tuple[int, ...]


@dataclass(frozen=True)
class SignificancePolicy:
    delta: float
    unit: str
    alpha: float
    gate: str
    min_runs: int
    recommended_runs: int
    reference: str = "best"         # "best": the best earlier record; "frontier": the previous frontier row
    also_report: str | None = None  # another ruleset whose reading of significance is reported beside this one
    pool_reproductions: bool = False  # others' runs of the script (listed or --pool-runs) join the test


@dataclass(frozen=True)
class RerunPolicy:
    default_seeds: tuple[int, ...]
    spread_multiple: float
    min_tolerance_bpb: float


@dataclass(frozen=True)
class Tolerances:
    val_tokens_relative: float
    eval_score_bpb: float = 1e-5   # golf eval: printed exact line vs golf's re-score in the record's numerics


@dataclass(frozen=True)
class LegalityPolicy:
    """golf legality (the prefix-invariance test) and how it stands beside the static reading (G404)."""

    loss_tolerance: float = 1e-6      # relative: |a - b| <= tol * (1 + |a|) counts as the same loss
    run_time_limit_s: float = 300.0   # each of the two runs of the script
    precedence: str = "dynamic"       # "dynamic": a pass or leak observed overrides G404; "static": G404 stands


LEGALITY_PRECEDENCE = ("dynamic", "static")


@dataclass(frozen=True)
class Ruleset:
    name: str
    version: str
    description: str
    default_track: str
    metric: str
    tracks: dict[str, Track]
    required_files: tuple[str, ...]
    min_logs: int
    code_bytes_policy: CodeBytesPolicy
    label_classes: tuple[str, ...]               # evaluation classes, best first (ttt, sliding, roundtrip)
    label_modes: dict[str, tuple[str, ...]]      # class -> globs over a label's evaluation mode
    excluded_labels: list[str]
    significance: SignificancePolicy
    reruns: RerunPolicy
    tolerances: Tolerances
    path: str
    applies_from: str | None = None   # ISO date from which this ruleset is the one in force
    # label glob -> why a score under it is suspect (e.g. PPM mixtures): recognised, but flagged
    flagged_labels: dict[str, str] = field(default_factory=dict)
    pre_score_phases: tuple[str, ...] = ()  # globs of phases timed outside the score lines that count as evaluation
    data_exports: dict[str, DataExport] = field(default_factory=dict)   # per tokenizer
    # [verdict]: kinds of paperwork (golf.judge.findings.PAPERWORK) reported as fixes instead of failing a
    # record, and the decimals the leaderboard shows a score with (a claim off below them is paperwork)
    paperwork: tuple[str, ...] = ()
    shown_decimals: int | None = None
    legality: LegalityPolicy = field(default_factory=LegalityPolicy)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    def track(self, name_or_alias: str | None = None) -> Track:
        """The track called `name_or_alias` (a name or an alias; case, '-' and '_' do not matter)."""
        if name_or_alias is None:
            return self.tracks[self.default_track]
        wanted = _normalise(name_or_alias)
        for track in self.tracks.values():
            if wanted == _normalise(track.name) or wanted in {_normalise(a) for a in track.aliases}:
                return track
        known = ", ".join(sorted(self.tracks))
        raise GolfError(f"ruleset {self.name} {self.version}: unknown track {name_or_alias!r} (known: {known})")

    def find_track(self, name_or_alias: str | None) -> Track | None:
        """Like track(), but None for an unknown or missing name."""
        if not name_or_alias:
            return None
        try:
            return self.track(name_or_alias)
        except GolfError:
            return None


def _normalise(name: str) -> str:
    return name.strip().strip("/").lower().replace("-", "_")


# The shipped rulesets sit beside this file (a plain folder: importlib.resources would cost more to load).
_FOLDER = Path(__file__).parent


def list_rulesets() -> list[str]:
    """Names of the rulesets shipped with golf."""
    return sorted(entry.name[: -len(".toml")] for entry in _FOLDER.iterdir() if entry.name.endswith(".toml"))


def load_ruleset(name: str | os.PathLike | None = None) -> Ruleset:
    """Load a shipped ruleset by name (default: parameter_golf_2026) or a ruleset file by path."""
    if name is None:
        name = DEFAULT_RULESET
    text_name = os.fspath(name)
    if text_name in list_rulesets():
        return _shipped(text_name)
    if text_name.endswith(".toml") or os.sep in text_name or Path(text_name).is_file():
        path = Path(text_name)
        if not path.is_file():
            raise GolfError(f"{path}: ruleset file not found")
        return _parse(path.read_bytes(), str(path))
    if text_name not in list_rulesets():
        known = ", ".join(list_rulesets()) or "none"
        raise GolfError(f"unknown ruleset {text_name!r} (known: {known})")
    return _shipped(text_name)


@functools.lru_cache(maxsize=None)
def _shipped(name: str) -> Ruleset:
    resource = _FOLDER / f"{name}.toml"
    return _parse(resource.read_bytes(), str(resource))


def _parse(data: bytes, where: str) -> Ruleset:
    reader = _Reader(_document(data, where, ()), where)
    tracks = {name: _track(name, _Reader(table, f"{where} [tracks.{name}]"))
              for name, table in reader.table("tracks").items()}
    if not tracks:
        raise GolfError(f"{where}: no [tracks.*] tables")
    default_track = reader.text("default_track")
    if default_track not in tracks:
        raise GolfError(f"{where}: default_track {default_track!r} is not one of the tracks")
    files = _Reader(reader.table("files"), f"{where} [files]")
    code = _Reader(reader.table("code_bytes"), f"{where} [code_bytes]")
    labels = _Reader(reader.table("labels"), f"{where} [labels]")
    verdict = _Reader(reader.table_or_empty("verdict"), f"{where} [verdict]")
    return Ruleset(
        name=reader.text("name"),
        version=reader.text("version"),
        applies_from=_date(reader.text("applies_from", None), f"{where} applies_from"),
        description=reader.text("description", ""),
        default_track=default_track,
        metric=reader.text("metric"),
        tracks=tracks,
        required_files=tuple(files.texts("required")),
        min_logs=files.integer("min_logs"),
        code_bytes_policy=CodeBytesPolicy(
            policy=_one_of(code.text("policy"), CODE_BYTES_POLICIES, f"{where} [code_bytes] policy"),
            script=code.text("script"), extra_runtime_files=code.text("extra_runtime_files"),
            packed_tolerance_bytes=code.integer("packed_tolerance_bytes", 0)),
        label_classes=tuple(labels.texts("classes")),
        label_modes=_modes(labels, f"{where} [labels.modes]"),
        excluded_labels=labels.texts("excluded"),
        data_exports=_exports(reader.table_or_empty("data"), f"{where} [data]"),
        pre_score_phases=tuple(_Reader(reader.table_or_empty("eval"), f"{where} [eval]").texts("pre_score_phases", [])),
        flagged_labels=_flagged(labels.table_or_empty("flagged"), f"{where} [labels.flagged]"),
        significance=_significance(_Reader(reader.table("significance"), f"{where} [significance]")),
        reruns=_reruns(_Reader(reader.table("reruns"), f"{where} [reruns]")),
        tolerances=_tolerances(_Reader(reader.table("tolerances"), f"{where} [tolerances]")),
        legality=_legality(_Reader(reader.table_or_empty("legality"), f"{where} [legality]")),
        path=where,
        paperwork=tuple(verdict.texts("paperwork", [])),
        shown_decimals=verdict.integer("shown_decimals", None),
    )


def _document(data: bytes, where: str, seen: tuple[str, ...]) -> dict:
    """The TOML document of a ruleset, with the ruleset it `extends` merged under it.

    `extends = "NAME"` (a shipped ruleset) or a path relative to this file: every table of the base
    is kept and this file's keys replace the base's, table by table (mlcommons' shared rules
    included by each round), so a ruleset writes only how it differs."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise GolfError(f"{where}: not a valid TOML ruleset: {error}") from None
    base_name = doc.pop("extends", None)
    if base_name is None:
        return doc
    if not isinstance(base_name, str) or not base_name.strip():
        raise GolfError(f"{where}: 'extends' must name a ruleset")
    if base_name in seen:
        raise GolfError(f"{where}: 'extends' runs in a circle: {' -> '.join((*seen, base_name))}")
    if base_name in list_rulesets():
        base_data, base_where = (_FOLDER / f"{base_name}.toml").read_bytes(), base_name
    else:
        path = Path(where).parent / base_name
        if not path.is_file():
            raise GolfError(f"{where}: extends {base_name!r}: no such shipped ruleset or file")
        base_data, base_where = path.read_bytes(), str(path)
    return _merged(_document(base_data, base_where, (*seen, base_name)), doc)


def _merged(base: dict, changes: dict) -> dict:
    out = dict(base)
    for key, value in changes.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _track(name: str, table: "_Reader") -> Track:
    return Track(
        name=name,
        aliases=tuple(table.texts("aliases", [])),
        byte_cap=table.integer("byte_cap"),
        train_time_limit_ms=table.integer("train_time_limit_ms", None),
        train_time_tolerance_ms=table.integer("train_time_tolerance_ms", 0),
        eval_time_limit_ms=table.integer("eval_time_limit_ms", None),
        hardware=table.text("hardware"),
        processes=table.integer("processes"),
        record=table.boolean("record"),
        description=table.text("description", ""),
        hardware_pattern=table.text("hardware_pattern", None),
        preset=_preset(table.table_or_empty("preset"), f"{table.where} preset"),
    )


def _preset(table: dict, where: str) -> dict[str, str]:
    if not all(isinstance(k, str) and k.isidentifier() and isinstance(v, str) for k, v in table.items()):
        raise GolfError(f"{where}: each entry must be `NAME = \"value\"` (an environment setting, as text)")
    return dict(table)


def _tolerances(table: "_Reader") -> Tolerances:
    return Tolerances(val_tokens_relative=table.number("val_tokens_relative"),
                      eval_score_bpb=table.number("eval_score_bpb", 1e-5))


def _legality(table: "_Reader") -> LegalityPolicy:
    default = LegalityPolicy()
    policy = LegalityPolicy(
        loss_tolerance=table.number("loss_tolerance", default.loss_tolerance),
        run_time_limit_s=table.number("run_time_limit_s", default.run_time_limit_s),
        precedence=_one_of(table.text("precedence", default.precedence), LEGALITY_PRECEDENCE,
                           f"{table.where} precedence"))
    if policy.loss_tolerance < 0 or policy.run_time_limit_s <= 0:
        raise GolfError(f"{table.where}: loss_tolerance must not be negative and run_time_limit_s must be positive")
    return policy


def _reruns(table: "_Reader") -> RerunPolicy:
    seeds = table._get("default_seeds", _MISSING, (list,), "a list of seeds")
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds) \
            or len(set(seeds)) != len(seeds):
        raise GolfError(f"{table.where}: default_seeds must be distinct non-negative integers")
    return RerunPolicy(tuple(seeds), table.number("spread_multiple"), table.number("min_tolerance_bpb"))


def _significance(table: "_Reader") -> SignificancePolicy:
    policy = SignificancePolicy(
        delta=table.number("delta"), unit=table.text("unit"), alpha=table.number("alpha"),
        gate=table.text("gate"), min_runs=table.integer("min_runs"),
        recommended_runs=table.integer("recommended_runs"),
        reference=_one_of(table.text("reference", "best"), REFERENCES, f"{table.where} reference"),
        also_report=table.text("also_report", None),
        pool_reproductions=table.boolean("pool_reproductions", False))
    if policy.unit not in UNITS:
        raise GolfError(f"{table.where}: unit must be one of {', '.join(UNITS)}, not {policy.unit!r}")
    if policy.gate not in GATES:
        raise GolfError(f"{table.where}: gate must be one of {', '.join(GATES)}, not {policy.gate!r}")
    if not 0 < policy.alpha < 1:
        raise GolfError(f"{table.where}: alpha must be between 0 and 1, not {policy.alpha}")
    if policy.delta < 0:
        raise GolfError(f"{table.where}: delta must not be negative")
    if policy.min_runs < 2:
        raise GolfError(f"{table.where}: min_runs must be at least 2 (a t test needs 2 runs)")
    return policy


def _exports(table: dict, where: str) -> dict[str, DataExport]:
    tokenizers = _Reader(table, where).table_or_empty("tokenizers")
    out = {}
    for name, entry in tokenizers.items():
        reader = _Reader(entry, f"{where} tokenizers.{name}")
        counts = reader._get("val_tokens", _MISSING, (list,), "a list of integers")
        if not counts or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in counts):
            raise GolfError(f"{where} tokenizers.{name}: 'val_tokens' must be a list of positive integers")
        out[name] = DataExport(reader.integer("train_shards"), tuple(counts))
    return out


def _flagged(table: dict, where: str) -> dict[str, str]:
    if not all(isinstance(v, str) for v in table.values()):
        raise GolfError(f"{where}: each entry must be `\"glob\" = \"why\"`")
    return dict(table)


def _modes(labels: "_Reader", where: str) -> dict[str, tuple[str, ...]]:
    """[labels.modes]: for each class of `classes`, the globs of its evaluation modes."""
    classes = labels.texts("classes")
    table = labels.table("modes")
    if not classes or len(set(classes)) != len(classes):
        raise GolfError(f"{where}: [labels] classes must be a non-empty list of distinct names")
    modes = _Reader(table, where)
    unknown = sorted(set(table) - set(classes))
    if unknown:
        raise GolfError(f"{where}: {', '.join(unknown)} not in [labels] classes")
    return {name: tuple(modes.texts(name)) for name in classes}


def _one_of(value: str, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise GolfError(f"{where}: must be one of {', '.join(allowed)}, not {value!r}")
    return value


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: str | None, where: str) -> str | None:
    if value is not None and not _DATE_RE.fullmatch(value):
        raise GolfError(f"{where}: must be a date written YYYY-MM-DD, not {value!r}")
    return value


def ruleset_for_date(date: str | None) -> tuple[Ruleset, str]:
    """The shipped ruleset in force on `date` (the latest `applies_from` on or before it), and why.

    Without a date, or before every ruleset's start, the default ruleset applies."""
    dated = []
    for name in list_rulesets():
        ruleset = load_ruleset(name)
        if ruleset.applies_from is not None:
            dated.append(ruleset)
    if date is None:
        return load_ruleset(DEFAULT_RULESET), "the record's date is unknown: the default ruleset"
    in_force = [r for r in dated if r.applies_from <= date]
    if not in_force:
        return load_ruleset(DEFAULT_RULESET), f"no ruleset applies as early as {date}: the default ruleset"
    chosen = max(in_force, key=lambda r: (r.applies_from, r.name))
    return chosen, f"in force on the record's date {date} (applies from {chosen.applies_from})"


_MISSING = object()


class _Reader:
    """Typed access to one TOML table, with errors that name the file, table and key."""

    def __init__(self, table, where: str):
        if not isinstance(table, dict):
            raise GolfError(f"{where}: expected a table")
        self.table_ = table
        self.where = where

    def _get(self, key, default, kinds, kind_name):
        value = self.table_.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise GolfError(f"{self.where}: missing key {key!r}")
            return default
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise GolfError(f"{self.where}: {key!r} must be {kind_name}, not {value!r}")
        return value

    def text(self, key, default=_MISSING) -> str:
        return self._get(key, default, (str,), "a string")

    def integer(self, key, default=_MISSING) -> int:
        value = self._get(key, default, (int,), "an integer")
        if value is not None and value < 0:
            raise GolfError(f"{self.where}: {key!r} must not be negative")
        return value

    def number(self, key, default=_MISSING) -> float:
        return float(self._get(key, default, (int, float), "a number"))

    def boolean(self, key, default=_MISSING) -> bool:
        return self._get(key, default, (bool,), "true or false")

    def texts(self, key, default=_MISSING) -> list[str]:
        values = self._get(key, default, (list,), "a list of strings")
        if not all(isinstance(v, str) for v in values):
            raise GolfError(f"{self.where}: {key!r} must be a list of strings")
        return list(values)

    def table(self, key) -> dict:
        return self._get(key, _MISSING, (dict,), "a table")

    def table_or_empty(self, key) -> dict:
        return self._get(key, {}, (dict,), "a table")

__all__ = ["CodeBytesPolicy", "DEFAULT_RULESET", "DataExport", "RerunPolicy", "Ruleset", "SignificancePolicy",
           "LegalityPolicy", "Tolerances", "Track", "ruleset_for_date",
           "list_rulesets", "load_ruleset"]
