"""G9xx: the change set of a record pull request (emitted by golf ci, which reads git, not a record folder)."""

from __future__ import annotations

from golf.judge.findings import rule


@rule("G901", "not-one-new-record", "error",
      "A record pull request adds exactly one new folder under records/<track>/ and changes nothing else.",
      group="ci")
def not_one_new_record(ctx):
    """A record pull request must add one new record folder, records/<track>/<date>_<name>/, and nothing else.

    golf ci compares the pull request with its base (git diff BASE...HEAD) and reports each change
    outside that folder: a modified or deleted file, a rename, a file outside records/, a folder
    under a track the ruleset does not know, files added to an existing record, or more than one
    new folder. Fix: move other changes into a pull request of their own.
    """
    return ()  # golf.judge.ci emits these from the change set
