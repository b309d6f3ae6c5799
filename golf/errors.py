"""The one exception type a user sees as a clean message instead of a traceback."""


class GolfError(Exception):
    """A problem the user can fix. The message names the file and the problem.

    The CLI prints it as `golf: error: <message>` and exits with `exit_code`
    (2: bad input or usage, the convention of argparse and linters).
    """

    exit_code = 2


class NetworkError(GolfError):
    """The network (or the server) cannot be reached: not the user's input, so its own exit status."""

    exit_code = 3
