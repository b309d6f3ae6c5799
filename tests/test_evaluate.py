"""The trusted evaluator on logits functions whose scores can be computed independently."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from golf.data.bytecount import ByteTables
from golf.errors import GolfError
from golf.produce.eval.evaluate import EvalResult, count_windows, evaluate, plan_windows

V = 48


def make_tables(seed: int = 0) -> ByteTables:
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 5, size=V)
    space = rng.random(V) < 0.5
    boundary = np.zeros(V, dtype=bool)
    boundary[:2] = True  # ids 0 and 1 are control tokens (BOS-like): no bytes, no space after them
    base[:2] = 0
    space[:2] = False
    return ByteTables(base, space, boundary)


def make_tokens(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    tokens = rng.integers(2, V, size=n).astype(np.uint16)
    tokens[:: 37] = 1  # a "BOS" now and then
    return tokens


def truncated(tokens: np.ndarray, seq_len: int) -> np.ndarray:
    usable = ((tokens.size - 1) // seq_len) * seq_len
    return tokens[: usable + 1]


def bytes_by_hand(tables: ByteTables, tokens: np.ndarray) -> int:
    total = 0
    for prev, target in zip(tokens[:-1].tolist(), tokens[1:].tolist()):
        total += int(tables.base_bytes[target])
        if tables.has_leading_space[target] and not tables.is_boundary[prev]:
            total += 1
    return total


def bigram_table(seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, 2.0, size=(V, V)).astype(np.float32)


def bigram_fn(table: np.ndarray, position_gain: float = 0.0):
    """logits[b, t] = table[x[b, t]], plus `position_gain * t` on token 5's logit (so context position matters)."""
    weights = torch.from_numpy(table)

    def logits_fn(x: torch.Tensor) -> torch.Tensor:
        logits = weights[x].clone()
        positions = torch.arange(x.shape[1], dtype=torch.float32)
        logits[:, :, 5] += position_gain * positions[None, :]
        return logits
    return logits_fn


def expected_nll(table: np.ndarray, tokens: np.ndarray, positions: np.ndarray, position_gain: float) -> float:
    """Sum over targets of -log softmax, in float64, target i scored at window position positions[i]."""
    total = 0.0
    for i in range(tokens.size - 1):
        row = table[tokens[i]].astype(np.float64)
        row[5] += position_gain * float(positions[i])
        m = row.max()
        total += m + math.log(np.exp(row - m).sum()) - row[tokens[i + 1]]
    return total


def sliding_positions(num_targets: int, seq_len: int, stride: int) -> np.ndarray:
    """The window position of each target under the contract's sliding definition, by formula."""
    i = np.arange(num_targets)
    k = np.where(i < seq_len, 0, (i - seq_len) // stride + 1)
    return i - k * stride


def test_uniform_logits_give_ln_v():
    tables, tokens = make_tables(), truncated(make_tokens(1000), 64)
    result = evaluate(lambda x: torch.zeros(*x.shape, V), tokens, tables, seq_len=64, batch_seqs=4, progress=False)
    n = tokens.size - 1
    nbytes = bytes_by_hand(tables, tokens)
    assert result.targets == n == 960 and result.bytes == nbytes
    assert result.val_loss == pytest.approx(math.log(V), abs=1e-6)
    assert result.val_bpb == pytest.approx(math.log(V) / math.log(2) * n / nbytes, rel=1e-6)
    assert result.mode == "standard" and result.stride is None and result.seq_len == 64


def test_bigram_standard_matches_an_independent_float64_sum():
    tables, table = make_tables(), bigram_table()
    tokens = truncated(make_tokens(1500), 100)
    result = evaluate(bigram_fn(table, 0.3), tokens, tables, seq_len=100, batch_seqs=3, progress=False)
    n = tokens.size - 1
    nll = expected_nll(table, tokens, np.arange(n) % 100, 0.3)
    assert result.val_loss == pytest.approx(nll / n, rel=1e-6)
    assert result.val_bpb == pytest.approx(nll / n / math.log(2) * n / bytes_by_hand(tables, tokens), rel=1e-6)


@pytest.mark.parametrize("seq_len, stride, batch", [(64, 64, 4), (64, 16, 5), (64, 23, 3), (50, 1, 64), (30, 29, 2)])
def test_sliding_scores_each_target_once_at_its_window_position(seq_len, stride, batch):
    tables, table = make_tables(3), bigram_table(4)
    tokens = truncated(make_tokens(700, seed=5), seq_len)
    n = tokens.size - 1
    result = evaluate(bigram_fn(table, 0.2), tokens, tables, seq_len=seq_len, batch_seqs=batch, stride=stride,
                      progress=False)
    positions = sliding_positions(n, seq_len, stride)
    assert result.targets == n and result.bytes == bytes_by_hand(tables, tokens)
    assert result.val_loss == pytest.approx(expected_nll(table, tokens, positions, 0.2) / n, rel=1e-6)
    assert result.mode == "sliding" and result.stride == stride


def test_stride_equal_to_seq_len_is_the_standard_score():
    tables, table = make_tables(), bigram_table()
    tokens = truncated(make_tokens(2000, seed=7), 128)
    fn = bigram_fn(table, 0.1)
    standard = evaluate(fn, tokens, tables, seq_len=128, batch_seqs=4, progress=False)
    sliding = evaluate(fn, tokens, tables, seq_len=128, batch_seqs=4, stride=128, progress=False)
    assert (sliding.targets, sliding.bytes) == (standard.targets, standard.bytes)
    assert sliding.val_loss == pytest.approx(standard.val_loss, rel=1e-12)
    assert sliding.val_bpb == pytest.approx(standard.val_bpb, rel=1e-12)


def test_smaller_stride_gives_more_context_and_a_different_score():
    # With a gain that lowers the loss of token 5 at later positions, more context scores differently.
    tables, table = make_tables(), bigram_table()
    tokens = truncated(make_tokens(2000, seed=8), 64)
    fn = bigram_fn(table, 0.5)
    standard = evaluate(fn, tokens, tables, seq_len=64, batch_seqs=8, progress=False)
    sliding = evaluate(fn, tokens, tables, seq_len=64, batch_seqs=8, stride=8, progress=False)
    assert sliding.targets == standard.targets
    assert sliding.val_loss != pytest.approx(standard.val_loss, rel=1e-4)


def test_batch_size_does_not_change_the_score():
    tables, table = make_tables(), bigram_table()
    tokens = truncated(make_tokens(1200, seed=9), 40)
    scores = {evaluate(bigram_fn(table), tokens, tables, seq_len=40, batch_seqs=b, stride=13, progress=False).val_loss
              for b in (1, 2, 7, 1000)}
    assert max(scores) - min(scores) < 1e-9


def test_progress_callback_reaches_the_total():
    tables = make_tables()
    tokens = truncated(make_tokens(900), 32)
    seen = []
    evaluate(lambda x: torch.zeros(*x.shape, V), tokens, tables, 32, 5, stride=10,
             progress=lambda done, total: seen.append((done, total)))
    total = count_windows(tokens.size - 1, 32, 10)
    assert seen[0] == (0, total) and seen[-1] == (total, total)


def test_bad_inputs_are_clear_errors():
    tables = make_tables()
    tokens = truncated(make_tokens(300), 32)
    with pytest.raises(GolfError, match="expected \\[B, T, V\\]"):
        evaluate(lambda x: torch.zeros(x.shape[0], V), tokens, tables, 32, 2, progress=False)
    with pytest.raises(GolfError, match="stride"):
        evaluate(lambda x: torch.zeros(*x.shape, V), tokens, tables, 32, 2, stride=33, progress=False)
    with pytest.raises(GolfError, match="too few"):
        evaluate(lambda x: torch.zeros(*x.shape, V), tokens[:10], tables, 32, 2, progress=False)


def test_result_shape():
    result = EvalResult(1.0, 2.0, 10, 20, "standard", None, 8, 1.5)
    assert result.tokens == 10 and result.to_dict()["val_bpb"] == 2.0


# --- the window plan -------------------------------------------------------------------------------

@settings(max_examples=400, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 300), st.data())
def test_plan_scores_every_target_exactly_once_with_the_most_context(n, seq_len, data):
    stride = data.draw(st.integers(1, seq_len))
    windows = list(plan_windows(n, seq_len, stride))
    assert len(windows) == count_windows(n, seq_len, stride)
    scored = []
    for k, w in enumerate(windows):
        assert w.start == k * stride
        assert 0 <= w.start <= w.score_start < w.end <= n
        assert w.end - w.start <= seq_len
        assert w.end == min(w.start + seq_len, n)
        scored.extend(range(w.score_start, w.end))
        # every scored target sees the longest context its window allows
        first_context = w.score_start - w.start + 1
        assert first_context == w.score_start + 1 if k == 0 else first_context >= seq_len - stride + 1
    assert scored == list(range(n))
    assert windows[0].start == 0 and windows[0].score_start == 0
    assert windows[-1].end == n and all(w.end < n for w in windows[:-1])
    assert np.array_equal(np.concatenate([np.arange(w.score_start, w.end) - w.start for w in windows]),
                          sliding_positions(n, seq_len, stride))


def test_plan_examples():
    assert [(w.start, w.end, w.score_start) for w in plan_windows(10, 4, 2)] == \
        [(0, 4, 0), (2, 6, 4), (4, 8, 6), (6, 10, 8)]
    assert [(w.start, w.end, w.score_start) for w in plan_windows(9, 4, 3)] == \
        [(0, 4, 0), (3, 7, 4), (6, 9, 7)]
    assert [(w.start, w.end, w.score_start) for w in plan_windows(3, 8, 2)] == [(0, 3, 0)]
    assert list(plan_windows(0, 8, 2)) == []
    with pytest.raises(GolfError):
        list(plan_windows(10, 4, 0))


# --- the window conventions of other evaluators ----------------------------------------------------

def convention_nll(table, tokens, seq_len, stride, position_gain, convention):
    """Sum of NLL and count of targets as another evaluator scores them, window by window."""
    n = tokens.size - 1
    starts = list(range(0, n - seq_len + 1, stride))
    if convention == "tail_twice":
        starts.append(n - seq_len)
    total, count, scored = 0.0, 0, []
    for s in starts:
        first = 0 if (s == 0 and convention == "tail_twice") else seq_len - stride
        for p in range(first, seq_len):
            scored.append(s + p)
            row = table[tokens[s + p]].astype(np.float64)
            row[5] += position_gain * p
            m = row.max()
            total += m + math.log(np.exp(row - m).sum()) - row[tokens[s + p + 1]]
            count += 1
    return total, count, scored


@pytest.mark.parametrize("convention", ["tail_twice", "head_skipped"])
def test_conventions_are_scored_as_those_evaluators_score(convention):
    seq_len, stride = 32, 8
    tables, table = make_tables(5), bigram_table(6)
    tokens = truncated(make_tokens(32 * 20 + 1, seed=11), seq_len)   # S divides N - L
    result = evaluate(bigram_fn(table, 0.2), tokens, tables, seq_len=seq_len, batch_seqs=7, stride=stride,
                      progress=False)
    nll, count, scored = convention_nll(table, tokens, seq_len, stride, 0.2, convention)
    got = result.conventions[convention]
    assert got["targets"] == count
    assert got["val_loss"] == pytest.approx(nll / count, rel=1e-6)
    nbytes = sum(int(tables.base_bytes[tokens[i + 1]]) + int(tables.has_leading_space[tokens[i + 1]]
                 and not tables.is_boundary[tokens[i]]) for i in scored)
    assert got["bytes"] == nbytes
    assert got["val_bpb"] == pytest.approx(nll / count / math.log(2) * count / nbytes, rel=1e-6)
    assert got["val_bpb"] != pytest.approx(result.val_bpb, rel=1e-6)
