"""Rulesets are data: the shipped file loads, every number comes from it, bad files fail clearly."""

import tomllib
from importlib import resources

import pytest

from golf.errors import GolfError
from golf.rules import list_rulesets, load_ruleset
from golf.judge.stats import significance

RULESET_TEXT = (resources.files("golf.rules") / "parameter_golf_2026.toml").read_text("utf-8")


def raw():
    return tomllib.loads(RULESET_TEXT)


def write_variant(tmp_path, old: str, new: str):
    assert old in RULESET_TEXT, old
    path = tmp_path / "variant.toml"
    path.write_text(RULESET_TEXT.replace(old, new, 1), encoding="utf-8")
    return path


def test_shipped_ruleset_is_listed_and_is_the_default():
    assert "parameter_golf_2026" in list_rulesets()
    assert load_ruleset().name == load_ruleset("parameter_golf_2026").name == "parameter_golf_2026"


def test_loaded_values_are_the_file_values():
    doc = raw()
    rules = load_ruleset()
    assert rules.version == doc["version"]
    assert set(rules.tracks) == set(doc["tracks"])
    for name, table in doc["tracks"].items():
        track = rules.tracks[name]
        assert track.byte_cap == table["byte_cap"]
        assert track.train_time_limit_ms == table.get("train_time_limit_ms")
        assert track.eval_time_limit_ms == table.get("eval_time_limit_ms")
        assert track.train_time_tolerance_ms == table.get("train_time_tolerance_ms", 0)
        assert track.processes == table["processes"]
        assert track.record is table["record"]
        assert track.hardware == table["hardware"]
    assert list(rules.label_classes) == doc["labels"]["classes"]
    assert {k: list(v) for k, v in rules.label_modes.items()} == doc["labels"]["modes"]
    assert rules.excluded_labels == doc["labels"]["excluded"]
    assert list(rules.required_files) == doc["files"]["required"]
    sig = doc["significance"]
    assert (rules.significance.delta, rules.significance.unit, rules.significance.alpha,
            rules.significance.gate, rules.significance.min_runs) == (
        sig["delta"], sig["unit"], sig["alpha"], sig["gate"], sig["min_runs"])


def test_the_challenge_numbers():
    rules = load_ruleset()
    main = rules.track("track_10min_16mb")
    assert main.byte_cap == 16_000_000
    assert main.train_time_limit_ms == main.eval_time_limit_ms == 600_000
    assert main.record and main.processes == 8 and "H100" in main.hardware
    assert 0 < main.train_time_tolerance_ms < 1000
    smoke = rules.track("smoke")
    assert smoke.hardware == "CPU" and smoke.processes == 2 and not smoke.record
    assert smoke.byte_cap == main.byte_cap
    assert rules.track("non-record-16mb").train_time_limit_ms is None
    assert rules.significance.delta == 0.005 and rules.significance.unit == "nats"
    assert rules.significance.alpha == 0.01 and rules.significance.min_runs >= 2
    assert rules.label_classes[:3] == ("ttt", "sliding", "roundtrip")   # spec 5.1: TTT > sliding > roundtrip
    assert {"README.md", "submission.json", "train_gpt.py"} <= set(rules.required_files)
    assert rules.code_bytes_policy.script == "train_gpt.py"


@pytest.mark.parametrize("alias,name", [
    ("10min_16mb", "track_10min_16mb"), ("track_10min_16mb", "track_10min_16mb"),
    ("non-record-16mb", "track_non_record_16mb"), ("non_record_16mb", "track_non_record_16mb"),
    ("non-record-unlimited-compute-16mb", "track_non_record_16mb"), ("SMOKE", "track_smoke"),
    (None, "track_10min_16mb"),
])
def test_track_aliases(alias, name):
    assert load_ruleset().track(alias).name == name


def test_unknown_track_and_ruleset_are_clear_errors():
    with pytest.raises(GolfError, match="unknown track 'nope'"):
        load_ruleset().track("nope")
    assert load_ruleset().find_track("nope") is None
    with pytest.raises(GolfError, match="unknown ruleset 'golf_1999'"):
        load_ruleset("golf_1999")
    with pytest.raises(GolfError, match="not found"):
        load_ruleset("/no/such/ruleset.toml")


def test_a_modified_copy_changes_behaviour(tmp_path):
    """The cap and the statistics settings are read from the file, not from code."""
    path = write_variant(tmp_path, "byte_cap = 16_000_000          #", "byte_cap = 15_000_000          #")
    path.write_text(path.read_text().replace("delta = 0.005", "delta = 0.02").replace('unit = "nats"', 'unit = "bpb"'))
    rules = load_ruleset(path)
    assert rules.track("10min_16mb").byte_cap == 15_000_000
    values, sota = [1.20143417, 1.19945102, 1.20319508], 1.21613611
    shipped = load_ruleset().significance
    changed = rules.significance
    passes = significance(values, sota, shipped.delta, "bpb", shipped.alpha).passed
    fails = significance(values, sota, changed.delta, changed.unit, changed.alpha).passed
    assert passes is True and fails is False


@pytest.mark.parametrize("old,new,message", [
    ('name = "parameter_golf_2026"', "name = 3", "'name' must be a string"),
    ("alpha = 0.01", "alpha = 2.0", "alpha must be between 0 and 1"),
    ('gate = "one-sample"', 'gate = "z-test"', "gate must be one of"),
    ('unit = "nats"', 'unit = "bits"', "unit must be one of"),
    ("min_runs = 2", "min_runs = 1", "min_runs must be at least 2"),
    ("record = true ", 'record = "yes" ', "'record' must be true or false"),
    ('default_track = "track_10min_16mb"', 'default_track = "track_x"', "default_track 'track_x'"),
    ("byte_cap = 16_000_000          #", "byte_cap = -1          #", "'byte_cap' must not be negative"),
    ("[significance]", "[significance_gone]", "missing key 'significance'"),
])
def test_malformed_rulesets_name_file_and_problem(tmp_path, old, new, message):
    path = write_variant(tmp_path, old, new)
    with pytest.raises(GolfError, match=message) as info:
        load_ruleset(path)
    assert str(path) in str(info.value)


def test_invalid_toml_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("name = [unclosed\n")
    with pytest.raises(GolfError, match="not a valid TOML ruleset"):
        load_ruleset(path)


def test_track_command_uses_the_process_count():
    rules = load_ruleset()
    assert rules.track("smoke").command() == "torchrun --standalone --nproc_per_node=2 train_gpt.py"
    assert "--nproc_per_node=8" in rules.track("10min_16mb").command()


def _label(lines):
    from golf.judge.labels import choose
    from golf.read.logs import parse_text

    rules = load_ruleset()
    text = "".join(f"{line} val_loss:2.00000000 val_bpb:{1 + i / 100:.8f}\n" for i, line in enumerate(lines))
    score = choose(parse_text(text).run, rules)
    return score.label if score else None


@pytest.mark.parametrize("lines,chosen", [
    (["diagnostic quantized", "final_int6_roundtrip_exact", "final_int6_sliding_window_exact", "legal_ttt_exact",
      "final_int8_zlib_roundtrip_exact"], "legal_ttt_exact"),
    (["pre-quantization post-ema", "quantized", "quantized_sliding_window", "quantized_ttt_phased"],
     "quantized_ttt_phased"),
    (["final_int8_zlib_roundtrip", "final_int8_zlib_roundtrip_exact"], "final_int8_zlib_roundtrip_exact"),
    (["final_ternary_roundtrip", "final_sliding"], "final_sliding"),
    (["final_roundtrip", "final_temped"], "final_roundtrip"),
    (["final_int8_zlib_roundtrip_exact", "final_int8_zlib_roundtrip_exact sliding"],
     "final_int8_zlib_roundtrip_exact sliding"),
    (["diagnostic quantized", "DIAGNOSTIC post_ema", "quantized", "pre-quantization post-ema"], None),
])
def test_label_precedence_picks_the_claimed_tier(lines, chosen):
    assert _label(lines) == chosen
