"""The cache of what golf derives from file bytes, and the frontier that judges only the rows it needs."""

from __future__ import annotations

import json

import pytest

from fixtures.verify.kit import make_record
from golf import cache
from golf.cli import main


@pytest.fixture
def here(tmp_path, monkeypatch):
    """Run in an empty folder with the cache folder where a user would have it (./.golf_cache)."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("GOLF_CACHE_DIR", raising=False)
    monkeypatch.delenv("GOLF_NO_CACHE", raising=False)
    cache.clear_memory()
    cache.configure()
    yield work
    cache.clear_memory()
    cache.configure(enabled=False)


def test_a_result_is_computed_once_and_read_back_in_a_later_process(here):
    calls = []

    def compute():
        calls.append(1)
        return {"bytes": 123, "problem": None}

    assert cache.cached("demo", b"print('hi')\n", compute) == {"bytes": 123, "problem": None}
    cache.clear_memory()  # as a new process would start
    assert cache.cached("demo", b"print('hi')\n", compute) == {"bytes": 123, "problem": None}
    assert calls == [1]
    assert cache.cached("demo", b"print('other')\n", compute) and calls == [1, 1]
    folder = here / ".golf_cache"
    assert "*" in (folder / ".gitignore").read_text().split()
    assert (folder / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


def test_a_damaged_entry_is_computed_again(here):
    cache.cached("demo", b"x", lambda: 1)
    for entry in (here / ".golf_cache").rglob("*.json"):
        entry.write_text("{not json")
    cache.clear_memory()
    assert cache.cached("demo", b"x", lambda: 2) == 2


def test_a_folder_that_cannot_be_written_means_no_cache_and_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GOLF_CACHE_DIR", str(blocker / ".golf_cache"))
    cache.clear_memory()
    cache.configure()
    try:
        assert cache.cached("demo", b"x", lambda: 7) == 7
        assert cache.folder() is None
    finally:
        cache.clear_memory()
        cache.configure(enabled=False)


def test_verify_caches_in_the_current_folder_and_reads_the_same_report_back(here, tmp_path, capsys):
    record = make_record(tmp_path / "records")
    assert main(["verify", str(record), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    kinds = {p.name for p in (here / ".golf_cache").glob("*/*")}
    assert {"compile", "legality", "files-used"} <= kinds
    cache.clear_memory()
    assert main(["verify", str(record), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == first


def test_no_cache_writes_nothing(here, tmp_path, capsys):
    record = make_record(tmp_path / "records")
    assert main(["verify", str(record), "--no-cache"]) == 0
    assert not (here / ".golf_cache").exists()


def test_the_cache_is_never_made_inside_a_record_folder(tmp_path, monkeypatch, capsys):
    record = make_record(tmp_path / "records")
    monkeypatch.chdir(record)
    monkeypatch.delenv("GOLF_CACHE_DIR", raising=False)
    cache.clear_memory()
    try:
        assert main(["verify", "."]) == 0
        assert not (record / ".golf_cache").exists()
    finally:
        cache.configure(enabled=False)


def test_a_packed_size_comes_from_the_cache_the_second_time(here, tmp_path, monkeypatch, capsys):
    import golf.read.packed as packed

    record = make_record(tmp_path / "records", "2026-04-12_Packed")   # practice era: code is counted packed
    calls = []
    real = packed.pack
    monkeypatch.setattr(packed, "pack", lambda text: calls.append(1) or real(text))
    main(["verify", str(record), "--json"])
    first = json.loads(capsys.readouterr().out)["records"][0]["stats"]["code_bytes"]
    cache.clear_memory()
    main(["verify", str(record), "--json"])
    second = json.loads(capsys.readouterr().out)["records"][0]["stats"]["code_bytes"]
    assert calls == [1] and first == second and first["packed"] is not None


def test_the_frontier_judges_only_the_records_before_the_one_verified(tmp_path, monkeypatch):
    from golf.judge.verify import Verifier

    tree = tmp_path / "records"
    first = make_record(tree, "2026-04-11_First", bpbs=(1.1200, 1.1210, 1.1190))
    middle = make_record(tree, "2026-04-13_Middle", bpbs=(1.1000, 1.1010, 1.0990))
    later = make_record(tree, "2026-04-15_Later", bpbs=(1.0800, 1.0810, 1.0790))
    verifier = Verifier()
    judged = []
    real = verifier.record_scores
    monkeypatch.setattr(verifier, "record_scores",
                        lambda path, **kw: judged.append(path.name) or real(path, **kw))
    report = verifier.verify(middle)
    assert report.summary.n_runs == 3
    assert set(judged) == {first.name} and later.name not in judged   # a later record is never its SOTA
    assert report.stats["sota"]["path"] == str(first)


def test_a_frontier_row_whose_shipped_script_fits_the_cap_is_not_packed(here, tmp_path, monkeypatch):
    import golf.read.packed as packed
    from golf.judge.verify import Verifier

    tree = tmp_path / "records"
    make_record(tree, "2026-04-11_First", bpbs=(1.1200, 1.1210, 1.1190))
    second = make_record(tree, "2026-04-13_Second", bpbs=(1.1000, 1.1010, 1.0990))
    (second / "train_gpt.py").write_text((second / "train_gpt.py").read_text() + "\n# the second's own\n")
    packed_texts = []
    real = packed.pack
    monkeypatch.setattr(packed, "pack", lambda text: packed_texts.append(text) or real(text))
    cache.clear_memory()
    Verifier().verify(second)
    assert packed_texts == [(second / "train_gpt.py").read_text()]   # the record shown, not the row before it
