"""The errors the command line reports as one line on stderr."""


class CLIError(Exception):
    """An error reported to the user as one line on stderr (exit status 1)."""

    status = 1


class CLIUsageError(CLIError):
    """A usage error (options that contradict each other or the inputs): exit status 2."""

    status = 2
