"""golf's project configuration: `[tool.golf]` in pyproject.toml, or a golf.toml (the ruff way).

The nearest golf.toml or pyproject.toml with a `[tool.golf]` table, from the current folder
upwards, is used (golf.toml first in each folder). It may hold:

    [tool.golf]
    ruleset = "parameter_golf_2026_practice"   # default: the ruleset in force on each record's date
    records-root = "records"                   # the records tree (frontier, copies, SOTA)
    select = ["G3", "G7"]                      # rules to run (codes, names or prefixes)
    ignore = ["G113"]                          # rules to skip; listed in every report

    [tool.golf.waivers."records/track_10min_16mb/2026-04-06_SomeRecord"]
    G301 = "counted with its decode file by a maintainer, accepted in #1234"

    [tool.golf.reproductions]   # reproductions that live elsewhere, pooled where the ruleset pools them
    "records/track_10min_16mb/2026-04-06_SomeRecord" = ["../pr-1234/logs", "records/track_10min_16mb/2026-04-08_Rerun"]

A waiver is one rule for one record with a written reason: the finding still appears in the
report, under `waived`, with the reason, and no longer decides the verdict. Paths are
relative to the file that holds them. Command-line options win over the file: golf.judge.judging
merges the two, once, into the settings every command judges by.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from golf.errors import GolfError

KEYS = {"ruleset", "records-root", "select", "ignore", "waivers", "reproductions"}


@dataclass
class Config:
    path: Path | None = None
    base: Path | None = None   # the folder relative paths in the file are taken from
    ruleset: str | None = None
    records_root: Path | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    waivers: dict[Path, dict[str, str]] = field(default_factory=dict)   # record folder -> rule as written -> reason
    reproductions: dict[Path, list[Path]] = field(default_factory=dict)   # record folder -> folders of logs


def find_config(start: Path | None = None) -> Path | None:
    """The nearest golf.toml, or pyproject.toml with a [tool.golf] table, from `start` upwards."""
    folder = Path(start or Path.cwd()).resolve()
    for here in (folder, *folder.parents):
        candidate = here / "golf.toml"
        if candidate.is_file():
            return candidate
        candidate = here / "pyproject.toml"
        if candidate.is_file() and _has_tool_golf(candidate):
            return candidate
    return None


def _has_tool_golf(path: Path) -> bool:
    try:
        return b"[tool.golf" in path.read_bytes()
    except OSError:
        return False


def load_config(path: Path | None = None, *, start: Path | None = None) -> Config:
    """The configuration in `path` (or the nearest one); an empty Config when there is none."""
    path = path or find_config(start)
    if path is None:
        return Config()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise GolfError(f"{path}: cannot read the golf configuration: {error}") from None
    return parse_config(text, Path(path), Path(path).resolve().parent)


def parse_config(text: str, path: Path, base: Path) -> Config:
    """The configuration in `text`, read from `path` (a golf.toml or a pyproject.toml); relative
    paths in it (records-root, waivers) are taken from `base`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise GolfError(f"{path}: not valid TOML: {error}") from None
    table = doc if path.name == "golf.toml" else doc.get("tool", {}).get("golf", {})
    where = f"{path} [tool.golf]" if path.name != "golf.toml" else str(path)
    if not isinstance(table, dict):
        raise GolfError(f"{where}: expected a table")
    unknown = sorted(set(table) - KEYS)
    if unknown:
        raise GolfError(f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(KEYS))})")
    base = Path(base).resolve()
    config = Config(path=path, base=base)
    config.ruleset = _text(table, "ruleset", where)
    root = _text(table, "records-root", where)
    config.records_root = (base / root) if root else None
    config.select = _texts(table, "select", where)
    config.ignore = _texts(table, "ignore", where)
    config.waivers = _waivers(table.get("waivers", {}), base, where)
    config.reproductions = _reproductions(table.get("reproductions", {}), base, where)
    return config


def _text(table: dict, key: str, where: str) -> str | None:
    value = table.get(key)
    if value is not None and not isinstance(value, str):
        raise GolfError(f"{where}: {key!r} must be a string")
    return value


def _texts(table: dict, key: str, where: str) -> list[str] | None:
    value = table.get(key)
    if value is not None and (not isinstance(value, list) or not all(isinstance(v, str) for v in value)):
        raise GolfError(f"{where}: {key!r} must be a list of strings")
    return value


def _reproductions(table, base: Path, where: str) -> dict[Path, list[Path]]:
    """record folder -> folders of reproduction logs (another record's, a pull request's checkout)."""
    if not isinstance(table, dict):
        raise GolfError(f"{where}: 'reproductions' must be a table of record paths")
    out: dict[Path, list[Path]] = {}
    for record, folders in table.items():
        if not isinstance(folders, list) or not all(isinstance(f, str) and f.strip() for f in folders):
            raise GolfError(f"{where} reproductions.{record!r}: expected a list of folders of logs")
        out[(base / record).resolve()] = [(base / folder).resolve() for folder in folders]
    return out


def _waivers(table, base: Path, where: str) -> dict[Path, dict[str, str]]:
    """record folder -> rule (code, name or prefix, as written) -> reason; golf.judge.judging resolves the rules."""
    if not isinstance(table, dict):
        raise GolfError(f"{where}: 'waivers' must be a table of record paths")
    out: dict[Path, dict[str, str]] = {}
    for record, rules in table.items():
        if not isinstance(rules, dict):
            raise GolfError(f"{where} waivers.{record!r}: expected `CODE = \"reason\"` entries")
        entry: dict[str, str] = {}
        for code, reason in rules.items():
            if not isinstance(reason, str) or not reason.strip():
                raise GolfError(f"{where} waivers.{record!r}.{code}: a waiver needs a written reason")
            entry[code] = reason.strip()
        out[(base / record).resolve()] = entry
    return out


__all__ = ["Config", "find_config", "load_config", "parse_config"]
