"""The one exception type for problems a user can fix: the CLI prints its message, never a traceback."""


class UserError(Exception):
    """Bad input (path, row, config value) with a message that names the thing and how to fix it."""
