"""The one exception type ReelRec shows to users: a message, never a traceback."""


class ReelRecError(Exception):
    """A problem the user can fix (bad input, missing file); printed as-is, exit code 2."""
