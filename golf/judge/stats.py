"""Significance tests and seed planning for record claims (spec 4).

Scores are val_bpb, lower is better. Sign convention everywhere: t is
(reference - mean) / standard error, so an improvement gives a positive t, and
the one-sided p is P(T >= t) with n - 1 (or Welch) degrees of freedom.
Nothing here raises on too few runs or zero spread: the result says it cannot
test and why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


SIGN_CONVENTION = "t = (reference - mean) / standard error: an improvement (lower bpb) gives a positive t"
MAX_PLANNED_RUNS = 10_000
ZERO_SD = 1e-12


@dataclass(frozen=True)
class TestResult:
    test: str                      # "one-sample" or "welch"
    n: int
    mean: float | None
    sd: float | None               # sample standard deviation (n - 1)
    reference: float | None        # the value the mean must beat (already minus delta)
    t: float | None
    df: float | None
    p: float | None                # one-sided
    alpha: float
    passed: bool | None            # None: cannot test
    reason: str | None = None      # why it cannot test
    sota_n: int | None = None      # welch only
    sota_mean: float | None = None
    sota_sd: float | None = None

    @property
    def testable(self) -> bool:
        return self.passed is not None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SeedPlan:
    n: int                         # runs so far
    n_needed: int | None           # smallest number of runs with p < alpha at this mean and sd
    max_mean: float | None         # highest mean that would pass with the current n
    margin: float | None           # how much lower the mean must be for the current n to pass (0 if it passes)
    reason: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Reading:
    """One way to read delta: as bpb, or as nats converted to bpb with the val_loss/val_bpb ratio."""
    unit: str
    delta: float                   # as given, in `unit`
    delta_bpb: float | None        # the margin in bpb, None when nats cannot be converted
    threshold: float | None        # sota - delta_bpb
    one_sample: TestResult
    welch: TestResult | None
    plan: SeedPlan | None

    def to_dict(self) -> dict:
        return {"unit": self.unit, "delta": self.delta, "delta_bpb": self.delta_bpb,
                "threshold": self.threshold, "one_sample": self.one_sample.to_dict(),
                "welch": self.welch.to_dict() if self.welch else None,
                "plan": self.plan.to_dict() if self.plan else None}


@dataclass(frozen=True)
class Significance:
    values: list[float]
    n: int
    mean: float | None
    sd: float | None
    sota: float
    sota_values: list[float] | None
    delta: float
    unit: str                      # the unit that gates
    alpha: float
    ratio: float | None            # val_loss / val_bpb of the submission (nats per bpb)
    gate: str                      # "one-sample" or "welch"
    readings: dict[str, Reading] = field(default_factory=dict)

    @property
    def gating(self) -> TestResult:
        reading = self.readings[self.unit]
        if self.gate == "welch":
            # A SOTA known by one value (a single-run record, or --sota) is compared one-sample.
            return reading.welch if reading.welch is not None else reading.one_sample
        return reading.one_sample

    @property
    def passed(self) -> bool | None:
        return self.gating.passed

    def to_dict(self) -> dict:
        return {"values": self.values, "n": self.n, "mean": self.mean, "sd": self.sd,
                "sota": self.sota, "sota_values": self.sota_values, "delta": self.delta,
                "unit": self.unit, "alpha": self.alpha, "ratio": self.ratio, "gate": self.gate,
                "sign_convention": SIGN_CONVENTION, "passed": self.passed,
                "gating": self.gating.to_dict(),
                "readings": {unit: r.to_dict() for unit, r in self.readings.items()}}


def _cannot(test: str, n: int, alpha: float, reason: str, **known) -> TestResult:
    fields = dict(mean=None, sd=None, reference=None, t=None, df=None, p=None)
    fields.update(known)
    return TestResult(test=test, n=n, alpha=alpha, passed=None, reason=reason, **fields)


def mean_and_sd(values) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation (n - 1) of finite numbers; None where undefined.

    The one place golf computes a record's mean and spread (pure Python, so the static path
    needs no numpy). Identical runs whose mean picked up a rounding error get an sd of exactly 0.
    """
    data = [float(v) for v in values]
    if not data or not all(math.isfinite(v) for v in data):
        return None, None
    # Scaled by the largest magnitude, so values near the float maximum neither overflow the sum nor the squares.
    scale = max(abs(v) for v in data) or 1.0
    scaled = [v / scale for v in data]
    mean_scaled = math.fsum(scaled) / len(scaled)
    mean = mean_scaled * scale
    if len(data) < 2:
        return mean, None
    sd = math.sqrt(math.fsum((v - mean_scaled) ** 2 for v in scaled) / (len(data) - 1)) * scale
    if not math.isfinite(sd):
        return mean, None   # a spread too large for a float is undefined here, not an overflow
    if sd <= ZERO_SD * max(1.0, abs(mean)):
        sd = 0.0
    return mean, sd


TOO_LARGE = "the values are too large for a float to hold their spread or t statistic"


def _summary(values) -> tuple[list[float], float | None, float | None, str | None]:
    data = [float(v) for v in values]
    if data and not all(math.isfinite(v) for v in data):
        return data, None, None, "a value is not a finite number"
    mean, sd = mean_and_sd(data)
    if len(data) >= 2 and sd is None:
        return data, mean, sd, TOO_LARGE
    return data, mean, sd, None


# Student's t distribution in pure Python: scipy.stats costs ~0.7 s to import, too much for the static path.
# sf(t, df) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2), the regularized incomplete beta function, which is
# evaluated by its continued fraction (modified Lentz method).


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    tiny, eps = 1e-300, 1e-15

    def guard(v: float) -> float:
        return tiny if abs(v) < tiny else v

    c, d = 1.0, 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    h = d
    for m in range(1, 1000):
        even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        d = 1.0 / guard(1.0 + even * d)
        c = guard(1.0 + even / c)
        h *= d * c
        odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 / guard(1.0 + odd * d)
        c = guard(1.0 + odd / c)
        h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def _regularized_beta(a: float, b: float, x: float) -> float:
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_sf(t: float, df: float) -> float:
    """P(T >= t) for Student's t with `df` degrees of freedom."""
    if math.isinf(t):
        return 0.0 if t > 0 else 1.0
    tail = 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return tail if t > 0 else 1.0 - tail


def t_isf(p: float, df: float) -> float:
    """The t with P(T >= t) = p (0 < p < 1), by bisection on t_sf."""
    sign = 1.0
    if p > 0.5:
        p, sign = 1.0 - p, -1.0
    low, high = 0.0, 1.0
    while t_sf(high, df) > p:
        low, high = high, high * 2.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if t_sf(middle, df) > p:
            low = middle
        else:
            high = middle
        if high - low <= 1e-13 * max(1.0, high):
            break
    return sign * (low + high) / 2.0


def one_sample_test(values, reference: float, alpha: float) -> TestResult:
    """One-sided one-sample t test: is the mean of `values` below `reference`?"""
    data, mean, sd, bad = _summary(values)
    n = len(data)
    if bad:
        return _cannot("one-sample", n, alpha, bad, reference=reference)
    if n < 2:
        return _cannot("one-sample", n, alpha, f"{n} run(s): a t test needs at least 2",
                       mean=mean, reference=reference)
    if sd == 0:
        return _cannot("one-sample", n, alpha, "the runs have zero variance: the t statistic is undefined",
                       mean=mean, sd=sd, reference=reference)
    t = (reference - mean) / (sd / math.sqrt(n))
    if not math.isfinite(t):
        return _cannot("one-sample", n, alpha, TOO_LARGE, mean=mean, sd=sd, reference=reference)
    df = n - 1
    p = t_sf(t, df)
    return TestResult("one-sample", n, mean, sd, reference, float(t), float(df), p, alpha, p < alpha)


def welch_test(values, sota_values, delta: float, alpha: float) -> TestResult:
    """One-sided Welch test: is mean(values) below mean(sota_values) - delta (delta in bpb)?"""
    data, mean, sd, bad = _summary(values)
    sota, sota_mean, sota_sd, sota_bad = _summary(sota_values)
    n, m = len(data), len(sota)
    known = dict(mean=mean, sd=sd, sota_n=m, sota_mean=sota_mean, sota_sd=sota_sd)
    if bad or sota_bad:
        return _cannot("welch", n, alpha, bad or f"SOTA: {sota_bad}", **known)
    if n < 2 or m < 2:
        return _cannot("welch", n, alpha,
                       f"{n} run(s) against {m} SOTA run(s): a Welch test needs at least 2 on each side", **known)
    try:
        var_a, var_b = sd ** 2 / n, sota_sd ** 2 / m
    except OverflowError:
        return _cannot("welch", n, alpha, TOO_LARGE, **known)
    if var_a + var_b == 0:
        return _cannot("welch", n, alpha, "both sets of runs have zero variance: the t statistic is undefined",
                       **known)
    reference = sota_mean - delta
    try:
        t = (reference - mean) / math.sqrt(var_a + var_b)
        df = (var_a + var_b) ** 2 / (var_a ** 2 / (n - 1) + var_b ** 2 / (m - 1))
    except (OverflowError, ZeroDivisionError):
        t = df = math.inf
    if not (math.isfinite(t) and math.isfinite(df)):
        return _cannot("welch", n, alpha, TOO_LARGE, **known)
    p = t_sf(t, df)
    return TestResult("welch", n, mean, sd, reference, float(t), float(df), p, alpha, p < alpha,
                      sota_n=m, sota_mean=sota_mean, sota_sd=sota_sd)


def plan_seeds(mean: float, sd: float, threshold: float, alpha: float, n: int | None = None) -> SeedPlan:
    """How many runs the observed mean and sd would need for p < alpha against `threshold`,
    and how much lower the mean must be for the current `n` runs to pass."""
    current = n or 0
    if mean is None or sd is None or not (math.isfinite(mean) and math.isfinite(sd)):
        return SeedPlan(current, None, None, None, "needs a mean and a standard deviation (2 runs or more)")
    if sd == 0:
        return SeedPlan(current, None, None, None, "zero standard deviation: no t test is defined")
    max_mean = margin = None
    if current >= 2:
        max_mean = threshold - t_isf(alpha, current - 1) * sd / math.sqrt(current)
        margin = max(0.0, mean - max_mean)
    if mean >= threshold:
        return SeedPlan(current, None, max_mean, margin,
                        f"the mean {mean:.8f} does not beat the threshold {threshold:.8f}: no number of runs passes")
    gap = threshold - mean

    def passes(runs: int) -> bool:
        return t_sf(gap / (sd / math.sqrt(runs)), runs - 1) < alpha

    # p falls as runs grow (t and df both grow): double to bracket the answer, then bisect.
    high = 2
    while not passes(high):
        if high >= MAX_PLANNED_RUNS:
            return SeedPlan(current, None, max_mean, margin, f"more than {MAX_PLANNED_RUNS} runs would be needed")
        high = min(2 * high, MAX_PLANNED_RUNS)
    low = max(2, high // 2)
    while low < high:
        middle = (low + high) // 2
        if passes(middle):
            high = middle
        else:
            low = middle + 1
    return SeedPlan(current, high, max_mean, margin)


def loss_ratio(losses, values) -> float | None:
    """val_loss / val_bpb of a set of runs (mean over mean): what converts a margin in nats to bpb.
    None unless every loss and score is a finite number and the scores are positive."""
    losses, values = list(losses), list(values)
    if not values or len(losses) != len(values):
        return None
    if not all(v is not None and math.isfinite(v) for v in losses) or \
            not all(v is not None and math.isfinite(v) and v > 0 for v in values):
        return None
    mean_loss, _ = mean_and_sd(losses)
    mean_bpb, _ = mean_and_sd(values)
    return mean_loss / mean_bpb


def delta_in_bpb(delta: float, unit: str, ratio: float | None) -> float | None:
    """The margin in bpb. Nats are converted with ratio = val_loss / val_bpb (spec 4.2)."""
    if unit == "bpb":
        return delta
    if ratio is None or not math.isfinite(ratio) or ratio <= 0:
        return None
    return delta / ratio


def significance(values, sota: float, delta: float, unit: str, alpha: float, ratio: float | None = None,
                 sota_values=None, gate: str = "one-sample") -> Significance:
    """Both readings of delta (as bpb, and as nats via `ratio`), each with its tests and seed plan;
    `unit` and `gate` say which result decides."""
    if unit not in ("bpb", "nats"):
        raise ValueError(f"unit must be bpb or nats, not {unit!r}")
    if gate not in ("one-sample", "welch"):
        raise ValueError(f"gate must be one-sample or welch, not {gate!r}")
    data, mean, sd, _ = _summary(values)
    sota_list = [float(v) for v in sota_values] if sota_values is not None else None
    readings = {}
    for reading_unit in ("bpb", "nats"):
        delta_bpb = delta_in_bpb(delta, reading_unit, ratio)
        if delta_bpb is None:
            reason = "delta is in nats and no val_loss/val_bpb ratio is known to convert it to bpb"
            readings[reading_unit] = Reading(
                reading_unit, delta, None, None, _cannot("one-sample", len(data), alpha, reason, mean=mean, sd=sd),
                _cannot("welch", len(data), alpha, reason) if sota_list is not None else None, None)
            continue
        threshold = sota - delta_bpb
        welch = welch_test(data, sota_list, delta_bpb, alpha) if sota_list is not None else None
        plan = plan_seeds(mean, sd, threshold, alpha, len(data)) if mean is not None else None
        readings[reading_unit] = Reading(reading_unit, delta, delta_bpb, threshold,
                                         one_sample_test(data, threshold, alpha), welch, plan)
    return Significance(values=[float(v) for v in data], n=len(data), mean=mean, sd=sd, sota=float(sota),
                        sota_values=sota_list, delta=delta, unit=unit, alpha=alpha, ratio=ratio, gate=gate,
                        readings=readings)


__all__ = ["Reading", "SIGN_CONVENTION", "SeedPlan", "Significance", "TestResult", "delta_in_bpb",
           "loss_ratio", "mean_and_sd", "one_sample_test", "plan_seeds", "significance", "welch_test"]
