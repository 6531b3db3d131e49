"""Is a downloaded MP3 whole and decodable? Checked before the file is kept.

An MP3 body cut short without ``Content-Length`` looks like a complete
download to HTTP. Its MPEG frames do not: the last frame header announces more
bytes than remain, or the Xing/Info header of the first frame counts more
frames than the file holds. :func:`mp3_problem` walks the frame headers (no
decoding) and then decodes the start of the file with soundfile.
"""

import numpy as np

from ..features import mp3_structure_problem
from ..utils import first_line

__all__ = ["mp3_problem"]

_DECODE_SECONDS = 1.0


def mp3_problem(path):
    """Why the file at ``path`` is not a whole, decodable MP3 (None when it is).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    reason : str or None
        One line, e.g. ``"the MP3 is cut short (...)"`` or ``"does not decode
        as audio (...)"``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, soundfile as sf
    >>> from sktags.datasets._mp3 import mp3_problem
    >>> path = os.path.join(tempfile.mkdtemp(), "x.mp3")
    >>> sf.write(path, np.zeros(22050, dtype="float32"), 22050, format="MP3")
    >>> mp3_problem(path) is None
    True
    >>> data = open(path, "rb").read()
    >>> _ = open(path, "wb").write(data[: len(data) // 2])
    >>> mp3_problem(path).startswith("the MP3 is cut short")
    True
    """
    import soundfile as sf

    with open(path, "rb") as f:
        data = f.read()
    problem = mp3_structure_problem(data)
    if problem:
        return problem
    try:
        with sf.SoundFile(path) as snd:
            n = int(_DECODE_SECONDS * snd.samplerate)
            block = snd.read(frames=n, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError, ValueError, OSError) as exc:
        return f"does not decode as audio ({first_line(exc)})"
    if block.shape[0] == 0 or not np.all(np.isfinite(block)):
        return "does not decode as audio (no finite samples)"
    return None
