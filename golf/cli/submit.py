"""`golf submit`: write a record folder's submission.json from its logs."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "submit", help="build submission.json for a record folder from its logs",
        description="Reads the folder's logs (never numbers typed by hand), keeps the identity fields and `run` "
                    "block already in submission.json, validates the result against the submission schema, "
                    "writes it atomically (the previous file is kept as .bak) and prints a markdown summary for "
                    "the pull request. Exit status 1, with nothing written, when something is missing or failing.")
    parser.add_argument("record_dir", metavar="RECORD_DIR", help="the record folder")
    parser.add_argument("--author", help="author's name")
    parser.add_argument("--github-id", dest="github_id", help="author's GitHub user name")
    parser.add_argument("--name", help="title of the submission")
    parser.add_argument("--blurb", help="one-paragraph summary of what is new")
    parser.add_argument("--track", help="track name or alias, e.g. 10min_16mb, non-record-16mb, smoke")
    parser.add_argument("--date", help="submission date, YYYY-MM-DD (default: from the folder name, else today)")
    sota = parser.add_mutually_exclusive_group()
    sota.add_argument("--sota", type=float, metavar="X", help="the SOTA val_bpb this record must beat")
    sota.add_argument("--sota-record", dest="sota_record", metavar="DIR",
                      help="the SOTA record folder: its per-run scores are read from its logs (enables Welch)")
    parser.add_argument("--score-label", dest="score_label", metavar="LABEL",
                        help="log label (glob) that is the score, instead of the ruleset precedence")
    parser.add_argument("--command", help="the command that reproduces one run, run inside the record folder")
    parser.add_argument("--env", nargs="+", default=[], metavar="KEY=VALUE",
                        help="environment variables of the run command")
    parser.add_argument("--ruleset", help="ruleset name or TOML file (default: parameter_golf_2026)")
    parser.add_argument("--dry-run", dest="dry_run", action="store_true", help="check and summarise, write nothing")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of markdown")
    parser.set_defaults(handler=run)


def parse_env(items: list[str]) -> dict[str, str]:
    from golf.errors import GolfError

    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not key.strip().replace("_", "").isalnum():
            raise GolfError(f"--env expects KEY=VALUE, not {item!r}")
        env[key.strip()] = value
    return env


def run(args: argparse.Namespace) -> int:
    import json
    import sys
    from pathlib import Path

    from golf.produce.submit import SubmitOptions, build_submission, render_markdown, write_submission

    options = SubmitOptions(author=args.author, github_id=args.github_id, name=args.name, blurb=args.blurb,
                            track=args.track, date=args.date, sota=args.sota,
                            sota_record=Path(args.sota_record) if args.sota_record else None,
                            score_label=args.score_label, command=args.command, env=parse_env(args.env),
                            ruleset=args.ruleset)
    result = build_submission(args.record_dir, options)
    if result.ok and not args.dry_run:
        write_submission(result)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(render_markdown(result), end="")
        for warning in result.warnings:
            print(f"golf: warning: {warning}", file=sys.stderr)
        if result.failures:
            print(f"golf: submit: {result.path} was not written; fix these first:", file=sys.stderr)
            for failure in result.failures:
                print(f"  - {failure}", file=sys.stderr)
        elif result.written:
            kept = f" (previous version kept as {result.backup.name})" if result.backup else ""
            print(f"golf: wrote {result.path}{kept}", file=sys.stderr)
        elif result.unchanged:
            print(f"golf: {result.path} is already up to date", file=sys.stderr)
        elif args.dry_run:
            print(f"golf: dry run: {result.path} not written", file=sys.stderr)
    return 0 if result.ok else 1
