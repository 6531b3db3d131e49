"""Paths of the command line: audio inputs, outputs, atomic writes."""

import os
from collections import Counter
from pathlib import Path

from ..utils import write_text_atomic as write_atomic
from ._errors import CLIError, CLIUsageError


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


def data_inputs(data, outputs):
    """The files that DATA arguments (feature files, audio folders) stand for.

    Each one, and a feature file's index; the audio files of the folders
    only when an existing output has an audio extension (``-o audio/123.wav``),
    so the common case costs nothing.
    """
    from ..features import AUDIO_EXTENSIONS, find_audio_files

    data = [Path(d) for d in data if d is not None]
    paths = [p for d in data for p in ([d, d.with_suffix(".json")] if d.suffix == ".npy" else [d])]
    risky = [o for o in outputs if o is not None and Path(o).suffix.lower() in AUDIO_EXTENSIONS
             and Path(o).exists()]
    if not risky:
        return paths
    for folder in (d for d in data if d.is_dir()):
        try:
            paths.extend(find_audio_files([folder]))
        except ValueError:  # a folder without audio holds nothing to overwrite
            continue
        except OSError as exc:
            raise CLIError(str(exc)) from None
    return paths


def write_text_atomic(target, text):
    """Write ``text`` to ``target`` atomically (UTF-8), after :func:`check_output_path`."""
    check_output_path(target)
    write_atomic(target, text)


def collect_audio(inputs, *, recursive=True, outputs=None):
    """:func:`sktags.features.find_audio_files`, its errors as :class:`CLIError`.

    With ``outputs`` (files indexed by track id), refuse an output among the
    files (:func:`refuse_overwrite`), then two files of one track id.
    """
    from ..features import find_audio_files

    files = _as_cli_error(find_audio_files, inputs, recursive=recursive)
    if outputs is not None:
        refuse_overwrite(outputs, files)
        dupes = sorted(i for i, n in Counter(f.stem for f in files).items() if n > 1)
        if dupes:
            raise CLIError(f"several files share the track id {dupes[0]!r} (file name without "
                           "extension)")
    return files


def audio_by_id(folder):
    """:func:`sktags.features.audio_files_by_id`, its errors as :class:`CLIError`."""
    from ..features import audio_files_by_id

    return _as_cli_error(audio_files_by_id, folder)


def _as_cli_error(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except (ValueError, OSError) as exc:
        raise CLIError(str(exc)) from None
