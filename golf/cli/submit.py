"""`golf submit`: verify a record folder, then write its submission.json from what verify verified."""

from __future__ import annotations

import argparse

from golf.cli import options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "submit", help="verify a record folder, then write its submission.json from what was verified",
        description="Run golf verify on the record folder (the identity you give standing in for the "
                    "submission.json about to be replaced) and write submission.json from the facts it verified: "
                    "the score, spread, sizes, seeds and significance exactly as verify computed them, so what "
                    "submit writes, verify passes. Identity fields and the `run` block a person wrote are kept; the "
                    "result is validated against the submission schema and written atomically (the previous file "
                    "is kept as .bak). Exit status 1, with nothing written, while verify reports an error other "
                    "than about the claims being rewritten.")
    parser.add_argument("record_dir", metavar="RECORD_DIR", help="the record folder")
    parser.add_argument("--author", help="author's name")
    parser.add_argument("--github-id", dest="github_id", help="author's GitHub user name")
    parser.add_argument("--name", help="title of the submission")
    parser.add_argument("--blurb", help="one-paragraph summary of what is new")
    parser.add_argument("--track", help="track name or alias, e.g. 10min_16mb, non-record-16mb, smoke")
    parser.add_argument("--date", help="submission date, YYYY-MM-DD (default: from the folder name, else today)")
    parser.add_argument("--score-label", dest="score_label", metavar="LABEL",
                        help="log label (glob) that is the score, instead of the ruleset's label classes")
    parser.add_argument("--command", help="the command that reproduces one run, run inside the record folder")
    options.add_env(parser, "environment variable of the run command (repeatable)")
    options.add_judging(parser, "selection", "sota")
    options.add_cache(parser)
    parser.add_argument("--dry-run", dest="dry_run", action="store_true", help="check and summarise, write nothing")
    options.add_format(parser, "submit")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from golf.produce.submit import SubmitOptions, build_submission, write_submission
    from golf.render.formats import show

    submit_options = SubmitOptions(author=args.author, github_id=args.github_id, name=args.name,
                                   blurb=args.blurb, track=args.track, date=args.date, sota=args.sota,
                                   sota_record=Path(args.sota_record) if args.sota_record else None,
                                   score_label=args.score_label, command=args.command,
                                   env=options.env_dict(args), ruleset=args.ruleset)
    # Judged as golf verify judges: the command line and the project configuration ([tool.golf] / golf.toml),
    # its ruleset, selection and waivers.
    result = build_submission(args.record_dir, submit_options, verifier=options.judging_from(args).verifier())
    if result.ok and not args.dry_run:
        write_submission(result)
    show("submit", args.format, result, dry_run=args.dry_run)
    return 0 if result.ok else 1
