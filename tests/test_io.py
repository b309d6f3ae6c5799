"""Atomic writes keep what a person wrote; hashing streams."""

import hashlib

from golf.io import atomic_write_bytes, atomic_write_text, sha256_file


def test_new_file_is_written_without_backup(tmp_path):
    target = tmp_path / "sub" / "out.json"
    assert atomic_write_text(target, "hello") is None
    assert target.read_text() == "hello"


def test_identical_content_makes_no_backup(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("same")
    assert atomic_write_text(target, "same") is None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_changed_content_keeps_the_previous_file(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("first")
    first_backup = atomic_write_text(target, "second")
    assert first_backup.read_text() == "first"
    second_backup = atomic_write_text(target, "third")
    assert second_backup != first_backup
    assert first_backup.read_text() == "first"
    assert second_backup.read_text() == "second"
    assert target.read_text() == "third"


def test_no_temporary_files_are_left_behind(tmp_path):
    target = tmp_path / "out.bin"
    atomic_write_bytes(target, b"\x00\x01")
    atomic_write_bytes(target, b"\x02", backup=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"]


def test_sha256_file_matches_hashlib(tmp_path):
    data = bytes(range(256)) * 9000
    target = tmp_path / "blob"
    target.write_bytes(data)
    assert sha256_file(target) == hashlib.sha256(data).hexdigest()


def test_written_files_get_ordinary_permissions(tmp_path):
    fresh = tmp_path / "fresh.txt"
    atomic_write_text(fresh, "x")
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert fresh.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777
    plain.chmod(0o640)
    atomic_write_text(plain, "changed", backup=False)
    assert plain.stat().st_mode & 0o777 == 0o640
