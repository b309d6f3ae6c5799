"""`golf stats`: the significance test of a record claim from per-run scores."""

from __future__ import annotations

import argparse

from golf.cli import options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "stats", help="significance of per-run scores against the SOTA, and seed planning",
        description="One-sided t tests of per-run val_bpb scores against (SOTA - delta), with delta read "
                    "both as bpb and as nats (converted with the submission's val_loss/val_bpb ratio). "
                    "Defaults come from the ruleset. t = (reference - mean)/(sd/sqrt(n)): an improvement is "
                    "positive. Exit status 0 when the gating test passes, 1 otherwise.")
    parser.add_argument("--values", type=options.finite_float, nargs="+", required=True, metavar="V",
                        help="per-run val_bpb scores of the submission")
    parser.add_argument("--sota", type=options.positive_float, metavar="X",
                        help="the SOTA val_bpb to beat (default: the mean of --sota-values)")
    parser.add_argument("--sota-values", type=options.finite_float, nargs="+", metavar="V",
                        help="the SOTA record's per-run val_bpb scores (enables the Welch test)")
    parser.add_argument("--delta", type=options.finite_float, help="required improvement (default: from the ruleset)")
    parser.add_argument("--unit", choices=["bpb", "nats"], help="unit of delta that gates (default: from the ruleset)")
    parser.add_argument("--ratio", type=options.positive_float, metavar="R",
                        help="val_loss/val_bpb of the submission, to convert a delta in nats to bpb")
    parser.add_argument("--alpha", type=options.finite_float, help="significance level (default: from the ruleset)")
    parser.add_argument("--gate", choices=["one-sample", "welch"], help="which test decides (default: from the ruleset)")
    options.add_ruleset(parser)
    options.add_format(parser, ("text", "json"))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from golf.io import dumps_json

    from golf.errors import GolfError
    from golf.judge.stats import significance

    ruleset = options.judging_from(args).default_ruleset   # --ruleset, else the configuration's, else the default
    policy = ruleset.significance
    if args.sota is None and not args.sota_values:
        raise GolfError("give --sota X or --sota-values V... (the SOTA to beat)")
    sota = args.sota if args.sota is not None else sum(args.sota_values) / len(args.sota_values)
    alpha = policy.alpha if args.alpha is None else args.alpha
    if not 0 < alpha < 1:
        raise GolfError(f"--alpha must be between 0 and 1, not {alpha}")
    if args.ratio is not None and args.ratio <= 0:
        raise GolfError(f"--ratio must be positive, not {args.ratio}")
    result = significance(args.values, sota,
                          delta=policy.delta if args.delta is None else args.delta,
                          unit=args.unit or policy.unit, alpha=alpha, ratio=args.ratio,
                          sota_values=args.sota_values, gate=args.gate or policy.gate)
    if args.format == "json":
        print(dumps_json(dict(result.to_dict(), ruleset=ruleset.label), indent=2))
    else:
        print_human(result)
    return 0 if result.passed else 1


def _num(value, digits=8) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _p(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def print_human(result) -> None:
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
            df = "-" if test.df is None else f"{test.df:.2f}"
            t = "-" if test.t is None else f"{test.t:.3f}"
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
