"""Tell truncated or undecodable audio files from complete ones.

libsndfile opens a truncated file without an error and reads fewer samples
than announced; these helpers read its open log and the MP3 header to tell a
cut file from a complete one, and word the messages.
"""

import re

#: Missing samples tolerated before a file counts as truncated: at least four
#: MP3 frames (4 x 1152 samples) and 1 % of the announced length, since an
#: MP3's length may be an estimate of the decoder and WAV data may lack a
#: final pad byte.
_TOLERANCE_FRAMES = 4 * 1152
_TOLERANCE_FRACTION = 0.01

HINT = "re-download or re-encode it, or skip it with on_error='zeros'"

# libsndfile's open log for a WAV/AIFF whose data chunk runs past the end of
# the file, e.g. "data : 176400 (should be 88178)".
_DATA_CHUNK = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# Sizes that streaming writers put in a header when the length is unknown.
_UNKNOWN_SIZES = (0, 0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF)


def tolerance(n_announced):
    """Missing frames tolerated out of ``n_announced`` before calling a file truncated."""
    return max(_TOLERANCE_FRAMES, int(_TOLERANCE_FRACTION * max(0, n_announced)))


def fmt_seconds(n, sr):
    """``n`` samples at ``sr`` as text, e.g. ``"2.00 s"``."""
    return f"{n / sr:.2f} s"


def header_truncation(f):
    """Why an open file is cut short according to its header, or None.

    Two cases that libsndfile reads without an error but logs: a WAV or AIFF
    whose data chunk announces more bytes than the file holds (libsndfile
    then reports only the frames present), and an Ogg stream whose last page
    lacks the end-of-stream flag.

    Parameters
    ----------
    f : soundfile.SoundFile
        File open for reading.

    Returns
    -------
    reason : str or None
    """
    log = f.extra_info
    match = _DATA_CHUNK.search(log)
    if match is not None:
        declared, present = int(match.group(1)), int(match.group(2))
        if declared not in _UNKNOWN_SIZES and declared > present:
            if f.frames > 0 and present > 0:
                announced = int(round(f.frames * declared / present))
                if announced - f.frames > tolerance(announced):
                    return (
                        f"truncated: its header announces {announced} samples "
                        f"({fmt_seconds(announced, f.samplerate)}) but the file holds only "
                        f"{f.frames} ({fmt_seconds(f.frames, f.samplerate)}); {HINT}"
                    )
            elif present < declared:
                return (
                    f"truncated: its header announces {declared} bytes of audio but the "
                    f"file holds {present}; {HINT}"
                )
    if f.format == "OGG" and "Last page lacks an end-of-stream bit" in log:
        return (
            "truncated: the Ogg stream stops before its end-of-stream page "
            f"(only {f.frames} samples, {fmt_seconds(f.frames, f.samplerate)}); {HINT}"
        )
    return None


def mp3_length_is_exact(path):
    """Whether an MP3 file states its length (a Xing/Info header with a frame count).

    libsndfile (mpg123) takes an MP3's length from that header; without it
    the length is an estimate from the first frame's bit rate and the file
    size, which is wrong for variable bit rate files.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(10)
            start = 0
            if len(head) == 10 and head[:3] == b"ID3":  # skip an ID3v2 tag
                size = (
                    (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | head[9] & 0x7F
                )
                start = 10 + size + (10 if head[5] & 0x10 else 0)
            fh.seek(start)
            block = fh.read(4096)
    except OSError:
        return False
    i = block.find(b"\xff")
    while 0 <= i < len(block) - 1 and block[i + 1] & 0xE0 != 0xE0:
        i = block.find(b"\xff", i + 1)
    if i < 0 or i >= len(block) - 1:
        return False
    frame = block[i : i + 200]
    for tag in (b"Xing", b"Info"):
        j = frame.find(tag)
        if 0 <= j and j + 8 <= len(frame):
            return bool(frame[j + 7] & 1)  # flags: bit 0 = number of frames present
    return False


# Bitrates (kbit/s) by bitrate index: MPEG-1 layer III, MPEG-2/2.5 layer III.
_BITRATE_V1_L3 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATE_V2_L3 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_SAMPLE_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


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


def mp3_structure_problem(data):
    """Why MPEG layer III data (bytes or an mmap) is cut short or has no frame, or None.

    Walks the frame headers without decoding: the file is cut short when
    its last frame header announces more bytes than remain, or when the
    Xing/Info header of the first frame counts more frames than it holds.
    Junk or tags after whole frames are not a truncation.
    """
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


def mp3_truncation(path):
    """Why the MP3 file at ``path`` is cut short (its frames say so), or None."""
    import mmap

    try:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            problem = mp3_structure_problem(data)
    except (OSError, ValueError):  # empty or unmappable: left to the decoder
        return None
    if problem is None or "cut short" not in problem:
        return None
    return f"truncated: {problem}; {HINT}"


def undecodable(exc):
    """Message for a file that exists but that libsndfile cannot open (``exc``)."""
    reason = str(exc).split(": ", 1)[-1].strip()
    if "does not exist" in reason or not reason:  # libsndfile's message for an unknown stream
        detail = ""
    else:
        detail = f" ({reason})"
    return (
        "not decodable audio: unknown format or corrupt data" + detail + "; check that it "
        "is a complete WAV, FLAC, OGG/Vorbis, Opus or MP3 file, then re-download or convert "
        "it (e.g. with ffmpeg), or skip it with on_error='zeros'"
    )
