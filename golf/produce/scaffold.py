"""`golf new TRACK NAME`: a record folder to start from.

    records/<track>/<YYYY-MM-DD>_<NAME>/
        train_gpt.py    a copy of golf's reference trainer
        README.md       a template to fill in
        .gitignore      so that what a trainer or golf leaves in the folder (logs/, final_model.*, the .bak
                        copies golf keeps of files it rewrites) is not committed by accident; it lives in the
                        record folder because a record pull request may add files only there
"""

from __future__ import annotations

import datetime as _dt
import re
import shutil
from importlib import resources
from pathlib import Path

from golf.errors import GolfError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")

GITIGNORE = """\
# Written by `golf new`: what trainers and golf leave next to a record, never part of one.
logs/
final_model.*
*.pt
*.ptz
*.bak
__pycache__/
"""

README = """\
# {name}

One paragraph: what is new in this record and why it should help.

## Run it

```bash
golf train {folder} --seeds 1337 42 2025 --nproc {nproc}{settings}
```

`golf train` runs `{command}` once per seed{preset_note} and records the exact command and environment in
`submission.json`; `golf submit {folder} --author ... --github-id ...` then writes the scores from the logs.

## Configuration

What differs from the reference trainer (`KEY=VALUE` settings given to `golf train`, and any change to
`train_gpt.py`).

## Results

Paste the summary `golf submit` prints here.
"""


def new_record(track_name: str, name: str, *, records="records", date: str | None = None, ruleset=None) -> Path:
    """Create the record folder; refuse to touch one that exists."""
    from golf.judge.judging import ruleset_named

    ruleset = ruleset or ruleset_named(None)
    track = ruleset.find_track(track_name)
    if track is None:
        raise GolfError(f"unknown track {track_name!r} (known: {', '.join(ruleset.tracks)})")
    if not NAME.match(name):
        raise GolfError(f"record name {name!r}: use letters, digits, '_', '-' or '.' (at most 80), e.g. LongerWarmdown")
    date = date or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d")
    try:
        _dt.date.fromisoformat(date)
    except ValueError:
        raise GolfError(f"--date {date!r}: expected YYYY-MM-DD") from None
    records = Path(records)
    folder = records / track.name / f"{date}_{name}"
    if folder.exists():
        raise GolfError(f"{folder} already exists; choose another name (nothing was changed)")
    script = ruleset.code_bytes_policy.script
    folder.mkdir(parents=True)
    shutil.copyfile(resources.files("golf.reference") / "train_gpt.py", folder / script)
    command = track.command(script)
    settings = "" if track.preset else " KEY=VALUE ..."
    preset_note = (f" with the {track.name} preset of the ruleset ({len(track.preset)} settings; a `KEY=VALUE` "
                   "given wins)") if track.preset else ""
    (folder / "README.md").write_text(README.format(name=name, folder=folder.as_posix(), nproc=track.processes,
                                                    command=command, settings=settings, preset_note=preset_note),
                                      encoding="utf-8")
    (folder / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return folder


__all__ = ["GITIGNORE", "new_record"]
