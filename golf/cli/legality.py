"""`golf legality RECORD_DIR`: the prefix-invariance test of a record's evaluation (runs the record's code)."""

from __future__ import annotations

import argparse

from golf.cli import options
from golf.cli.types import positive_float, positive_int

EXIT_PASS, EXIT_LEAK, EXIT_CANNOT_RUN = 0, 1, 4


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "legality", help="prove evaluation legality by running the record's script (prefix invariance)",
        description=(
            "Run RECORD_DIR's own script twice at a tiny shape on the CPU (width 64, the record's depth, a "
            "few training steps, a validation stream of 4,097 tokens of the smoke data; the record's "
            "test-time-training and evaluation settings kept), with the same training data and seeds and two "
            "validation streams that differ only from position P on. Every loss the script computes is recorded "
            "per token; every score of a target before P (a loss computed without grad, or added to the score's "
            "sums without grad) must be the same in both runs. pass: it was; leak: the tail reached an earlier "
            "score (the first call it reached is named, with its phase: training, before the score, during the "
            "score); cannot-run: the script could not run here (a missing dependency such "
            "as triton, the tiny shape refused, a crash, the time limit), which proves nothing either way. "
            "The script runs in a separate process with golf's environment allowlist, memory bound and a time "
            "limit, and CPU stand-ins for CUDA, torch.compile, distributed init and FlashAttention 3. "
            "Exit status: 0 pass, 1 leak, 4 cannot-run, 2 bad input."))
    parser.add_argument("record_dir", metavar="RECORD_DIR", help="the record folder (holds the script)")
    parser.add_argument("--tail-from", type=positive_int, metavar="P",
                        help="the first validation position that differs between the runs (default: 60%% into "
                             "the stream, off chunk and window edges)")
    parser.add_argument("--script", metavar="NAME", default="train_gpt.py",
                        help="the record's script, relative to RECORD_DIR (default: train_gpt.py)")
    parser.add_argument("--timeout", type=positive_float, metavar="S",
                        help="time limit of each run in seconds (default: the ruleset's [legality] run_time_limit_s)")
    options.add_data_paths(parser)
    options.add_env(parser, "a knob for the record's script, over the tiny shape's (repeatable)")
    parser.add_argument("--keep", metavar="DIR", help="keep the two runs' folders, logs and recorded losses in DIR")
    options.add_ruleset(parser)
    options.add_format(parser, "legality")
    parser.set_defaults(handler=run_legality)


def legality_for(record_dir, ruleset, *, script="train_gpt.py", tail_from=None, timeout=None, data_path=None,
                 tokenizer_path=None, env=None, keep=None):
    from pathlib import Path

    from golf.produce.legality.run import check_legality

    policy = ruleset.legality
    return check_legality(record_dir, script=script, tail_from=tail_from,
                          timeout_s=timeout or policy.run_time_limit_s, tolerance=policy.loss_tolerance,
                          data_path=data_path, tokenizer_path=tokenizer_path, env=env,
                          keep=Path(keep).resolve() if keep else None)


def run_legality(args: argparse.Namespace) -> int:
    from golf.judge.judging import ruleset_named
    from golf.produce.safe_env import user_knob
    from golf.render.formats import show

    for key, value in args.env:
        user_knob(key, value)
    result = legality_for(args.record_dir, ruleset_named(args.ruleset), script=args.script, tail_from=args.tail_from,
                          timeout=args.timeout, data_path=args.data_path, tokenizer_path=args.tokenizer_path,
                          env=options.env_dict(args), keep=args.keep)
    show("legality", args.format, result)
    return {"pass": EXIT_PASS, "leak": EXIT_LEAK}.get(result.verdict, EXIT_CANNOT_RUN)
