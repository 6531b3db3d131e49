"""Is a downloaded MP3 whole and decodable? Checked before the file is kept.

An MP3 body cut short without ``Content-Length`` looks like a complete
download to HTTP. Its MPEG frames do not: the last frame header announces more
bytes than remain, or the Xing/Info header of the first frame counts more
frames than the file holds. :func:`mp3_problem` walks the frame headers (no
decoding) and then decodes the start of the file with soundfile.
"""

import numpy as np

from ..utils import first_line

__all__ = ["mp3_problem"]

# Bitrates (kbit/s) by bitrate index: MPEG-1 layer III, MPEG-2/2.5 layer III.
_BITRATE_V1_L3 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATE_V2_L3 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_DECODE_SECONDS = 1.0


def _id3v2_size(data):
    if len(data) >= 10 and data[:3] == b"ID3":
        size = 0
        for b in data[6:10]:
            size = (size << 7) | (b & 0x7F)
        return 10 + size + (10 if data[5] & 0x10 else 0)
    return 0


def _frame(data, pos):
    """(frame length, version bits, channel mode) of a layer III header at ``pos``, or None."""
    if pos + 4 > len(data):
        return None
    b1, b2, b3 = data[pos + 1], data[pos + 2], data[pos + 3]
    if data[pos] != 0xFF or b1 & 0xE0 != 0xE0:
        return None
    version, layer = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, sr_index, padding = b2 >> 4, (b2 >> 2) & 3, (b2 >> 1) & 1
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or sr_index == 3:
        return None  # reserved, not layer III, free format or bad
    kbps = (_BITRATE_V1_L3 if version == 3 else _BITRATE_V2_L3)[bitrate_index]
    sr = _SAMPLE_RATES[version][sr_index]
    coefficient = 144 if version == 3 else 72
    return coefficient * kbps * 1000 // sr + padding, version, b3 >> 6


def _xing_frames(data, pos, version, mode):
    """Frame count of a Xing/Info header in the frame at ``pos``, or None."""
    side = (32 if mode != 3 else 17) if version == 3 else (17 if mode != 3 else 9)
    tag = pos + 4 + side
    if data[tag : tag + 4] in (b"Xing", b"Info") and len(data) >= tag + 12:
        flags = int.from_bytes(data[tag + 4 : tag + 8], "big")
        if flags & 1:
            return int.from_bytes(data[tag + 8 : tag + 12], "big")
    return None


def _structure_problem(data):
    pos = _id3v2_size(data)
    end = len(data)
    if end >= pos + 128 and data[end - 128 : end - 125] == b"TAG":
        end -= 128  # ID3v1 tag
    frames, announced = 0, None
    while pos < end:
        header = _frame(data, pos)
        if header is None:
            if frames == 0:
                # Skip junk before the first frame, as decoders do (bounded).
                nxt = data.find(b"\xff", pos + 1, min(end, pos + 65536))
                if nxt < 0:
                    return "no MPEG audio frame found"
                pos = nxt
                continue
            break  # trailing tags or junk after whole frames: not a truncation
        length, version, mode = header
        if pos + length > end:
            return (f"the MP3 is cut short (its last frame needs {length} bytes, "
                    f"{end - pos} remain)")
        if frames == 0:
            announced = _xing_frames(data, pos, version, mode)
        frames += 1
        pos += length
    if frames == 0:
        return "no MPEG audio frame found"
    if announced is not None and frames < announced:
        return f"the MP3 is cut short ({frames} of the {announced} frames its header announces)"
    return None


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
    problem = _structure_problem(data)
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
