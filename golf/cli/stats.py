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
    options.add_format(parser, "stats")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from golf.render.formats import show

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
    show("stats", args.format, result, extra={"ruleset": ruleset.label})
    return 0 if result.passed else 1


