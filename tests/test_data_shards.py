"""The shard format (spec 1.8): round trips, every malformed file, validation-token loading."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from golf.data.shards import (HEADER_BYTES, MAGIC, VERSION, ShardError, load_validation_tokens, read_shard,
                              shard_token_count, validate_shard, write_shard)
from golf.errors import GolfError


def raw_shard(tokens, magic=20240520, version=1, count=None):
    """A shard built by hand with struct, independent of the code under test."""
    tokens = list(tokens)
    header = struct.pack("<3i", magic, version, len(tokens) if count is None else count) + b"\0" * (1024 - 12)
    return header + struct.pack(f"<{len(tokens)}H", *tokens)


def test_constants_match_the_spec():
    assert (MAGIC, VERSION, HEADER_BYTES) == (20240520, 1, 1024)


def test_round_trip_writes_the_spec_layout(tmp_path):
    tokens = np.array([1, 0, 65535, 1023, 7], dtype=np.int64)
    path = write_shard(tmp_path / "s.bin", tokens)
    assert path.read_bytes() == raw_shard([1, 0, 65535, 1023, 7])
    read = read_shard(path)
    assert isinstance(read, np.memmap)
    assert read.dtype == np.uint16
    assert read.tolist() == [1, 0, 65535, 1023, 7]
    assert shard_token_count(path) == 5


def test_reads_a_hand_made_shard(tmp_path):
    (tmp_path / "h.bin").write_bytes(raw_shard(range(300, 310)))
    assert read_shard(tmp_path / "h.bin").tolist() == list(range(300, 310))


def test_empty_shard_round_trip(tmp_path):
    path = write_shard(tmp_path / "e.bin", np.zeros(0, dtype=np.uint16))
    assert path.stat().st_size == 1024
    assert read_shard(path).size == 0


def test_written_shard_is_readable_by_others(tmp_path):
    path = write_shard(tmp_path / "p.bin", [1, 2])
    assert path.stat().st_mode & 0o044 == 0o044


@pytest.mark.parametrize("tokens, fragment", [
    ([-1, 5], "[0, 65535]"),
    ([65536], "[0, 65535]"),
    (np.array([1.5]), "integers"),
    (np.zeros((2, 2), dtype=np.uint16), "one-dimensional"),
])
def test_write_rejects_tokens_that_do_not_fit(tmp_path, tokens, fragment):
    with pytest.raises(ShardError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        write_shard(tmp_path / "bad.bin", tokens)
    assert not (tmp_path / "bad.bin").exists()


MALFORMED = {
    "wrong magic": (raw_shard([1, 2], magic=12345), "wrong magic number 12345"),
    "wrong version": (raw_shard([1, 2], version=2), "unsupported shard version 2"),
    "truncated tokens": (raw_shard([1, 2, 3])[:-1], "does not match the header"),
    "extra bytes": (raw_shard([1, 2, 3]) + b"\0\0", "does not match the header"),
    "count too large": (raw_shard([1, 2], count=10), "10 tokens need 1044 bytes"),
    "negative count": (raw_shard([], count=-4), "negative token count"),
    "truncated header": (raw_shard([1])[:500], "truncated header (500 of 1024 bytes)"),
    "empty file": (b"", "empty file"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_shards_name_the_file_and_the_problem(tmp_path, case):
    content, fragment = MALFORMED[case]
    path = tmp_path / f"{case.replace(' ', '_')}.bin"
    path.write_bytes(content)
    for call in (read_shard, shard_token_count):
        with pytest.raises(ShardError) as caught:
            call(path)
        assert str(path) in str(caught.value)
        assert fragment in str(caught.value)
    assert fragment in validate_shard(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ShardError, match="no such shard file"):
        read_shard(tmp_path / "absent.bin")
    with pytest.raises(ShardError, match="is a directory"):
        read_shard(tmp_path)


def test_shard_error_is_a_golf_error():
    assert issubclass(ShardError, GolfError)


def test_validate_accepts_a_good_shard(tmp_path):
    assert validate_shard(write_shard(tmp_path / "ok.bin", [3, 4])) is None


def test_load_validation_tokens_sorts_concatenates_and_truncates(tmp_path):
    # Written out of order: the loader must sort by name.
    (tmp_path / "fineweb_val_000001.bin").write_bytes(raw_shard(range(100, 110)))
    (tmp_path / "fineweb_val_000000.bin").write_bytes(raw_shard(range(0, 13)))
    (tmp_path / "fineweb_train_000000.bin").write_bytes(raw_shard([9] * 50))
    tokens = load_validation_tokens(str(tmp_path / "fineweb_val_*.bin"), seq_len=4)
    # 23 tokens: usable = ((23 - 1) // 4) * 4 = 20, so 21 tokens are kept.
    assert tokens.tolist() == list(range(13)) + list(range(100, 108))
    assert load_validation_tokens(str(tmp_path / "fineweb_val_*.bin"), seq_len=22).size == 23


def test_load_validation_tokens_errors(tmp_path):
    with pytest.raises(ShardError, match="no validation shards match"):
        load_validation_tokens(str(tmp_path / "fineweb_val_*.bin"), 8)
    (tmp_path / "fineweb_val_000000.bin").write_bytes(raw_shard(range(8)))
    with pytest.raises(ShardError, match="too few for one sequence of 8"):
        load_validation_tokens(str(tmp_path / "fineweb_val_*.bin"), 8)
    with pytest.raises(ShardError, match="must be positive"):
        load_validation_tokens(str(tmp_path / "fineweb_val_*.bin"), 0)
    (tmp_path / "fineweb_val_000001.bin").write_bytes(b"junk")
    with pytest.raises(ShardError, match="fineweb_val_000001.bin"):
        load_validation_tokens(str(tmp_path / "fineweb_val_*.bin"), 4)


# ---------------------------------------------------------------- properties

@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 65535), max_size=300))
def test_any_uint16_sequence_round_trips(tmp_path_factory, values):
    path = tmp_path_factory.mktemp("prop") / "s.bin"
    write_shard(path, np.array(values, dtype=np.int64))
    assert read_shard(path).tolist() == values


@settings(max_examples=150, deadline=None)
@given(st.one_of(
    st.binary(max_size=2100),
    st.builds(lambda head, tail: head + tail,
              st.sampled_from([struct.pack("<3i", 20240520, 1, n) + b"\0" * 1012 for n in (0, 1, 3, 500)]),
              st.binary(max_size=1100)),
))
def test_arbitrary_bytes_are_a_shard_or_a_shard_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "f.bin"
    path.write_bytes(content)
    try:
        tokens = read_shard(path)
    except ShardError as error:
        assert str(path) in str(error)
    else:
        assert len(content) == 1024 + 2 * tokens.size
