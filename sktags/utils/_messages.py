"""One-line error messages."""


def first_line(exc):
    """The first line of an exception's message, or its type's name when it has none.

    Errors are reported to users as one line (the command line prints it on
    stderr, a catalogue run records it for the file at fault).

    Parameters
    ----------
    exc : BaseException

    Returns
    -------
    line : str

    Examples
    --------
    >>> from sktags.utils import first_line
    >>> first_line(ValueError("bad value\\ndetails"))
    'bad value'
    >>> first_line(KeyError())
    'KeyError'
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
