"""Paths of the command line: audio inputs, outputs, atomic writes."""

import os
from pathlib import Path

from ..utils import write_text_atomic as write_atomic
from ._errors import CLIError, CLIUsageError

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")


def check_output_path(target):
    """Raise unless ``target`` can be written: its folder exists, it is not a folder."""
    target = Path(target)
    if not target.parent.is_dir():
        raise CLIError(f"output directory {str(target.parent)!r} does not exist")
    if target.is_dir():
        raise CLIError(f"output {str(target)!r} is a folder; give a file name")


def refuse_overwrite(outputs, inputs):
    """Refuse, before any work, an output that is one of the command's inputs.

    Parameters
    ----------
    outputs : iterable of path or None
        Files the command will write (None entries are ignored).
    inputs : iterable of path or None
        Files the command reads. Two paths are the same file when
        :func:`os.path.samefile` says so (symbolic and hard links included).

    Raises
    ------
    CLIUsageError
        One line naming both paths (exit status 2); also when two outputs
        are the same file.
    """
    existing = [Path(p) for p in inputs if p is not None and Path(p).exists()]
    outputs = [Path(o) for o in outputs if o is not None]
    for i, out in enumerate(outputs):
        for other in outputs[:i]:
            if os.path.realpath(out) == os.path.realpath(other):
                raise CLIUsageError(f"two outputs are the same file: {str(other)!r} and {str(out)!r}")
        if not out.exists():
            continue
        for inp in existing:
            try:
                same = os.path.samefile(out, inp)
            except OSError:
                same = False
            if same:
                shown = "" if str(inp) == str(out) else f" (through {str(inp)!r})"
                raise CLIUsageError(
                    f"output {str(out)!r} is one of this command's inputs{shown}; writing it "
                    "would destroy that input: choose another output file"
                )


def audio_inputs(data, outputs):
    """The audio files of the DATA folders that an output could overwrite.

    Folders are only listed when an existing output has an audio extension
    (``-o audio/123.wav``), so the common case costs nothing.
    """
    risky = [o for o in outputs if o is not None and Path(o).suffix.lower() in AUDIO_EXTENSIONS
             and Path(o).exists()]
    folders = [Path(d) for d in data if d is not None and Path(d).is_dir()]
    if not risky or not folders:
        return []
    return [f for folder in folders for f in _audio_in_folder(folder, True)]


def write_text_atomic(target, text):
    """Write ``text`` to ``target`` atomically (UTF-8), after :func:`check_output_path`."""
    check_output_path(target)
    write_atomic(target, text)


def _audio_in_folder(folder, recursive):
    """Audio files under ``folder``, following symbolic links to folders once each."""
    found, seen, stack = [], set(), [Path(folder)]
    while stack:
        current = stack.pop()
        try:
            st = current.stat()
            key = (st.st_dev, st.st_ino)
            if key in seen:  # a link loop, or a folder reached twice
                continue
            seen.add(key)
            entries = list(os.scandir(current))
        except OSError as exc:
            raise CLIError(f"cannot read folder {str(current)!r}: {exc.strerror or exc}") from None
        for entry in entries:
            try:
                if entry.is_dir():  # follows symbolic links
                    if recursive:
                        stack.append(Path(entry.path))
                    continue
            except OSError:
                pass
            # an audio name that is not a readable regular file (a dangling link, a FIFO)
            # is kept: decoding it fails, and the failure is reported with its name
            if Path(entry.name).suffix.lower() in AUDIO_EXTENSIONS:
                found.append(Path(entry.path))
    return sorted(found)


def collect_audio(inputs, *, recursive=True):
    """Audio files named on the command line, folders expanded (sorted).

    Sub-folders reached through symbolic links are followed, each folder
    once (a link loop is not followed again). A folder entry with an audio
    extension is listed even when it is not a readable regular file (a
    dangling link, a FIFO): decoding it then fails with its name.

    Raises
    ------
    CLIError
        When a path does not exist or a folder holds no audio file.
    """
    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = _audio_in_folder(path, recursive)
            if not found:
                raise CLIError(
                    f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in folder {str(path)!r}"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise CLIError(f"no such file or folder: {str(path)!r}")
    if not files:
        raise CLIError("no audio files given")
    return files


def audio_by_id(folder):
    """Map track id (file name without extension) to audio path in ``folder``."""
    files = collect_audio([folder])
    by_id = {}
    for path in files:
        if path.stem in by_id:
            raise CLIError(
                f"two audio files for track id {path.stem!r}: {str(by_id[path.stem])!r} "
                f"and {str(path)!r}"
            )
        by_id[path.stem] = path
    return by_id
