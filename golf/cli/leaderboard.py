"""`golf leaderboard`: the leaderboard tables from records/, with verified scores."""

from __future__ import annotations

import argparse

from golf.cli import options


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "leaderboard", help="the leaderboard (Run | Score | Author | Summary | Date | Info) from records/",
        description="Statically verify every record folder under --records and print one table per track, "
                    "sorted by score: the verified mean val_bpb of each record's logs (4 decimals), not the "
                    "claimed number; records that fail verification are marked with the rules they fail. "
                    "--write updates a file (LEADERBOARD.md) between the markers <!-- golf:leaderboard:start --> "
                    "and <!-- golf:leaderboard:end -->, leaving everything around them as it is; --check exits 1 "
                    "when that section is stale. Record pull requests never touch the file: "
                    ".github/workflows/leaderboard.yml rewrites it on main after each merge.")
    parser.add_argument("--records", metavar="DIR",
                        help="the records folder: records/<track>/<folder>/ (default: the config file's "
                             "records-root, else ./records)")
    parser.add_argument("--track", metavar="T", help="only this track (a name or an alias, e.g. 10min_16mb)")
    options.add_format(parser, "leaderboard", default="markdown")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", metavar="FILE", nargs="?", const="LEADERBOARD.md",
                       help="update the table between the markers in this file (default: LEADERBOARD.md)")
    group.add_argument("--check", metavar="FILE", nargs="?", const="LEADERBOARD.md",
                       help="exit 1 (printing a diff) when this file's table is stale (default: LEADERBOARD.md)")
    options.add_judging(parser, "selection")
    options.add_cache(parser)
    parser.add_argument("--frontier", action="store_true",
                        help="print the chronological frontier of each record track instead: the rows that each "
                             "beat the previous row under the ruleset's significance test (by default the ruleset "
                             "in force on the latest record's date), and every record left out with the reason")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from golf.errors import GolfError
    from golf.render.formats import show
    from golf.render.leaderboard import build_rows, check_readme, write_readme

    judging = options.judging_from(args)
    records = args.records or judging.records_root or "records"
    if args.format != "markdown" and (args.write or args.check):
        raise GolfError("--format json prints the rows; --write and --check work on the markdown table")
    if args.frontier:
        from golf.render import frontier

        if args.write or args.check:
            raise GolfError("--frontier prints the frontier; --write and --check work on the leaderboard table")
        found = frontier.build_frontiers(records, judging=judging, track=args.track)
        show("frontier", args.format, found)
        return 0
    rows = build_rows(records, track=args.track, judging=judging)
    if args.write:
        changed, backup = write_readme(args.write, rows)
        if changed:
            print(f"updated the leaderboard in {args.write}", file=sys.stderr)
        else:
            print(f"the leaderboard in {args.write} is already up to date", file=sys.stderr)
        return 0
    if args.check:
        diff = check_readme(args.check, rows)
        if diff:
            print(diff, end="")
            print(f"{args.check}: the leaderboard is stale; run `golf leaderboard --write {args.check}`",
                  file=sys.stderr)
            return 1
        print(f"{args.check}: the leaderboard is up to date", file=sys.stderr)
        return 0
    base = Path.cwd()
    show("leaderboard", args.format, rows, base=base)
    return 0
