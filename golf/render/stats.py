"""`golf stats` as text: the two readings of delta, the tests and the seed plan."""

from __future__ import annotations


def _num(value, digits=8) -> str:
    from golf.read.numerals import fixed

    return fixed(value, digits)



def _p(value) -> str:
    return "–" if value is None else f"{value:.4g}"



def print_human(result, **_options) -> None:
    from rich import box
    from rich.table import Table

    from golf.judge.stats import SIGN_CONVENTION
    from golf.render.terminal import make_console, print_block

    console = make_console()
    console.print(f"runs: {result.n}  mean: {_num(result.mean)}  sd: {_num(result.sd)}  SOTA: {_num(result.sota)}")
    console.print(f"delta {result.delta} {result.unit} gates ({result.gate}, one-sided, alpha {result.alpha})")
    console.print(f"val_loss/val_bpb ratio: {_num(result.ratio, 4)}")
    table = Table(title="significance (both readings of delta)", box=box.SIMPLE_HEAD)
    for column in ("delta", "in bpb", "threshold", "test", "t", "df", "p", "ok"):
        table.add_column(column, no_wrap=True)
    reasons = []
    for unit, reading in result.readings.items():
        for test in (reading.one_sample, reading.welch):
            if test is None:
                continue
            verdict = "cannot test" if test.passed is None else ("pass" if test.passed else "fail")
            if test.reason and test.reason not in reasons:
                reasons.append(test.reason)
            marker = "*" if unit == result.unit and test.test == result.gate else ""
            df = "–" if test.df is None else f"{test.df:.2f}"
            t = "–" if test.t is None else f"{test.t:.3f}"
            table.add_row(unit + marker, _num(reading.delta_bpb, 6),
                          _num(reading.threshold if test.test == "one-sample" else test.reference, 6),
                          test.test, t, df, _p(test.p), verdict)
    print_block(console, table)
    console.print("* the reading and test that decide")
    for reason in reasons:
        console.print(f"cannot test: {reason}")
    console.print(SIGN_CONVENTION)
    plan = result.readings[result.unit].plan
    if plan is not None:
        if plan.n_needed is None:
            console.print(f"seed plan: {plan.reason}")
        else:
            console.print(f"seed plan: {plan.n_needed} runs at this mean and sd reach p < {result.alpha}")
        if plan.margin:
            console.print(f"with {plan.n} runs the mean must be at most {plan.max_mean:.8f} "
                          f"({plan.margin:.8f} lower than now)")
    gating = result.gating
    verdict = ("PASS" if gating.passed else "FAIL") if gating.passed is not None else f"CANNOT TEST: {gating.reason}"
    console.print(f"result: {verdict}")


__all__ = ["print_human"]
