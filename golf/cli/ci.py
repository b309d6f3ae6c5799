"""`golf ci`: the check a record pull request must pass (one new record folder, statically verified)."""

from __future__ import annotations

import argparse

from golf.cli import options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ci", help="check a record pull request: one new record folder that passes static verification",
        description="Compare two git revisions (git diff BASE...HEAD, i.e. from their merge base): pass only "
                    "when the change adds exactly one new folder records/<track>/<folder>/, touches nothing "
                    "else, and that folder passes static verification as committed at HEAD (read from git "
                    "objects; nothing from the pull request is run). Prints a markdown report for a "
                    "pull-request comment or the job summary. Exit status: 0 pass, 1 fail, 2 bad revisions "
                    "or not a git repository.")
    parser.add_argument("--base", required=True, metavar="REV",
                        help="the target branch revision, e.g. origin/main")
    parser.add_argument("--head", default="HEAD", metavar="REV",
                        help="the pull request's revision (default: HEAD; uncommitted changes are not considered)")
    parser.add_argument("--repo", default=".", metavar="DIR", help="the git repository (default: the current folder)")
    parser.add_argument("--report", metavar="FILE",
                        help="also write the markdown report to FILE (an existing different file is kept as .bak)")
    options.add_judging(parser, "selection")
    options.add_format(parser, "ci")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from golf.io import atomic_write_text
    from golf.judge.ci import run_ci
    from golf.render.ci import render_markdown
    from golf.render.formats import show

    result = run_ci(args.repo, args.base, args.head, ruleset=args.ruleset, select=args.select, ignore=args.ignore)
    if args.report:
        atomic_write_text(args.report, render_markdown(result))
    show("ci", args.format, result)
    return 0 if result.passed else 1
