"""Atomic file replacement: write to a temporary file, then ``os.replace``."""

import os
import tempfile
from contextlib import contextmanager

# mkstemp creates files readable by their owner only; the replaced file should
# get the usual permissions (0666 less the umask), as open() would give it.
# Read once at import: os.umask can only be read by setting it, which is not
# thread-safe.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(target, *, prefix=".tmp-", suffix=".tmp"):
    """Yield a temporary path next to ``target``; replace ``target`` with it on success.

    The temporary file is created (empty) in the directory of ``target``, so
    that :func:`os.replace` is an atomic rename: readers see either the old
    ``target`` or the complete new one, never a partial file. If the body
    raises (or is interrupted), the temporary file is removed and ``target``
    is left as it was.

    Parameters
    ----------
    target : str or os.PathLike
        Final file name. Its directory must exist.
    prefix, suffix : str
        Name parts of the temporary file (a leading dot keeps it hidden).

    Yields
    ------
    tmp : str
        Path of the temporary file to write.

    Examples
    --------
    >>> import os, tempfile
    >>> from sktags.utils import atomic_path
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = os.path.join(d, "out.txt")
    ...     with atomic_path(target) as tmp:
    ...         with open(tmp, "w") as f:
    ...             _ = f.write("done")
    ...     print(open(target).read(), os.listdir(d))
    done ['out.txt']
    """
    directory = os.path.dirname(os.path.abspath(os.fspath(target)))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=prefix, suffix=suffix)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_text_atomic(target, text):
    """Write ``text`` to ``target`` atomically, as UTF-8 (see :func:`atomic_path`).

    Examples
    --------
    >>> import os, tempfile
    >>> from sktags.utils import write_text_atomic
    >>> path = os.path.join(tempfile.mkdtemp(), "index.json")
    >>> write_text_atomic(path, '{"ids": []}')
    >>> open(path).read()
    '{"ids": []}'
    """
    name = os.path.basename(os.fspath(target))
    with atomic_path(target, prefix=f".{name}.", suffix=".part") as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
