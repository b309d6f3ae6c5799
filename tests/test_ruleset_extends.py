"""Rulesets extend each other: the practice ruleset writes only its differences from the written rules."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from golf.errors import GolfError
from golf.rules import _parse, load_ruleset

BEFORE = Path(__file__).parent / "fixtures" / "rulesets" / "parameter_golf_2026_practice.full.toml"


def test_the_practice_ruleset_merged_equals_its_full_copy():
    # The practice ruleset written out in full, as it was before `extends` (kept as a fixture).
    full = _parse(BEFORE.read_bytes(), str(BEFORE))
    merged = load_ruleset("parameter_golf_2026_practice")
    assert dataclasses.replace(merged, path=full.path) == full


def test_an_extension_changes_only_what_it_writes(tmp_path):
    child = tmp_path / "stricter.toml"
    child.write_text('extends = "parameter_golf_2026"\nname = "stricter"\nversion = "1"\n'
                     '[tracks.track_10min_16mb]\nbyte_cap = 15_000_000\n[significance]\nalpha = 0.001\n')
    ruleset = load_ruleset(str(child))
    written = load_ruleset("parameter_golf_2026")
    assert ruleset.name == "stricter" and ruleset.track("10min_16mb").byte_cap == 15_000_000
    assert ruleset.significance.alpha == 0.001 and ruleset.significance.delta == written.significance.delta
    assert ruleset.track("10min_16mb").train_time_limit_ms == written.track("10min_16mb").train_time_limit_ms
    assert ruleset.label_classes == written.label_classes and ruleset.label_modes == written.label_modes
    # a file may extend another file beside it
    grandchild = tmp_path / "grand.toml"
    grandchild.write_text('extends = "stricter.toml"\nname = "grand"\n')
    assert load_ruleset(str(grandchild)).track("10min_16mb").byte_cap == 15_000_000


def test_a_bad_extends_is_a_clear_error(tmp_path):
    missing = tmp_path / "missing.toml"
    missing.write_text('extends = "no_such_ruleset"\n')
    with pytest.raises(GolfError, match="no_such_ruleset"):
        load_ruleset(str(missing))
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text('extends = "b.toml"\n')
    b.write_text('extends = "a.toml"\n')
    with pytest.raises(GolfError, match="circle"):
        load_ruleset(str(a))
