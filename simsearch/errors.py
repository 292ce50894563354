"""The one exception type that means "the user's input is wrong"."""


class SimsearchError(ValueError):
    """Invalid input: a parameter out of range, a malformed spec, file or grid.

    The message is one line that names the offending field and what is allowed; the CLI prints it
    and exits with status 2.
    """


def require(condition: bool, message: str) -> None:
    """Raise :class:`SimsearchError` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise SimsearchError(message)
