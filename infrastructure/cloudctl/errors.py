"""The one error type the CLI turns into a single line on stderr and a non-zero exit."""


class CloudctlError(Exception):
    """A failure the user can act on. str(err) is the whole message, on one line."""

    exit_code = 1
