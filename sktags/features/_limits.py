"""Documented limits on what a parameter or a file may make sktags allocate.

A size comes from a parameter (``duration``, ``n_fft``), from a file's
header (its length) or from a model file (``crop_frames``). Each is checked
against a limit here before anything of that size is allocated, and a
failure says what to change. Only the standard library and numpy are
imported, so that workers and the models may call these cheaply.
"""

import os

#: Highest sample rate (Hz) of the front end.
MAX_SR = 768_000
#: Longest FFT (and Hann window), in samples.
MAX_N_FFT = 2**16
#: Longest hop between frames, in samples.
MAX_HOP_LENGTH = 2**20
#: Most mel bands.
MAX_N_MELS = 1024
#: Longest fixed excerpt (``duration``), in seconds: one hour. Longer audio is
#: taken whole with ``duration=None``, decoded in blocks.
MAX_EXCERPT_SECONDS = 3600.0
#: Longest track decoded whole (``duration=None``), in seconds: three hours,
#: checked on the length a file declares and again while decoding.
MAX_TRACK_SECONDS = 3 * 3600.0
#: Longest crop or prediction window of a tagger, in frames (about 50 minutes
#: at the paper's 22,050 Hz and hop of 1024).
MAX_WINDOW_FRAMES = 2**16


def memory_bytes():
    """Physical memory of this machine in bytes, or None where it cannot be told."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return None


def check_allocation(n_bytes, *, what, hint):
    """Refuse to allocate ``n_bytes`` when it exceeds this machine's memory.

    Parameters
    ----------
    n_bytes : int
        Size about to be allocated.
    what : str
        What it is, e.g. ``"the features of 3000 clips of 96 x 775196 frames"``.
    hint : str
        What to change, e.g. ``"use extract_to_file"``.

    Raises
    ------
    ValueError
        One line with the size, the machine's memory and ``hint``.

    Examples
    --------
    >>> check_allocation(1024, what="a small array", hint="nothing")
    >>> check_allocation(2**80, what="a huge array", hint="ask for less")
    Traceback (most recent call last):
    ...
    ValueError: a huge array would take 1125899906842624.0 GiB, more than this machine's memory ...
    """
    total = memory_bytes()
    if total is not None and n_bytes > total:
        raise ValueError(
            f"{what} would take {n_bytes / 2**30:.1f} GiB, more than this machine's memory "
            f"({total / 2**30:.1f} GiB); {hint}."
        )


def check_window(n_frames, *, n_mels=None, batch_size=None, name="crop_frames"):
    """Check a crop or prediction window before its arrays are allocated.

    Call it where the window arrays are allocated, with the window's length
    and, when known, the number of mel bands and the batch size.

    Parameters
    ----------
    n_frames : int
        Frames of one window.
    n_mels : int or None, default=None
        Mel bands of one window (for the batch's size).
    batch_size : int or None, default=None
        Windows held at once.
    name : str, default="crop_frames"
        The parameter to name in the message.

    Raises
    ------
    ValueError
        If ``n_frames`` exceeds :data:`MAX_WINDOW_FRAMES`, or a float32 batch
        of such windows exceeds this machine's memory.

    Examples
    --------
    >>> check_window(646, n_mels=96, batch_size=32)
    >>> check_window(10**9)
    Traceback (most recent call last):
    ...
    ValueError: crop_frames=1000000000 frames is over the limit of 65536 frames (sktags.features._limits.MAX_WINDOW_FRAMES); set a smaller crop_frames (a model file that declares it is damaged or hostile).
    """
    n_frames = int(n_frames)
    if n_frames > MAX_WINDOW_FRAMES:
        raise ValueError(
            f"{name}={n_frames} frames is over the limit of {MAX_WINDOW_FRAMES} frames "
            f"(sktags.features._limits.MAX_WINDOW_FRAMES); set a smaller {name} (a model file "
            "that declares it is damaged or hostile)."
        )
    if n_mels is not None and batch_size is not None:
        check_allocation(
            4 * int(n_mels) * n_frames * int(batch_size),
            what=f"a batch of {batch_size} windows of {n_mels} x {n_frames} frames",
            hint=f"lower batch_size or {name}",
        )
