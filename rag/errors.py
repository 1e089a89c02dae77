"""Errors that are the user's to fix: the CLI prints them as one line, no traceback."""


class UserError(Exception):
    """Bad input or state a user can fix (missing folder, stale index, empty question)."""


class IndexMismatchError(UserError):
    """The index on disk was built with other settings or a newer format."""


class IndexBusyError(UserError):
    """Another process (or thread) is writing this index and the caller chose not to wait."""
