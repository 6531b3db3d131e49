"""Finding audio files: folders expanded, track ids from file names."""

import os
from pathlib import Path

#: File extensions taken for audio when a folder is searched (compared in lower case).
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff")


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
            raise OSError(f"cannot read folder {str(current)!r}: {exc.strerror or exc}") from None
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


def find_audio_files(inputs, *, recursive=True):
    """Audio files and folders, folders expanded into their audio files.

    Sub-folders reached through symbolic links are followed, each folder
    once (a link loop is not followed again). A folder entry with an audio
    extension (:data:`AUDIO_EXTENSIONS`) is listed even when it is not a
    readable regular file (a dangling link, a FIFO): decoding it then fails
    with its name.

    Parameters
    ----------
    inputs : iterable of path
        Audio files (taken whatever their extension) and folders.
    recursive : bool, default=True
        Whether to descend into sub-folders.

    Returns
    -------
    files : list of pathlib.Path
        The files in the order of ``inputs``, each folder's files sorted.

    Raises
    ------
    ValueError
        When a path does not exist, a folder holds no audio file, or
        ``inputs`` is empty; one line naming the path.
    OSError
        When a folder cannot be read, naming it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sktags.features import find_audio_files
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("b.wav", "a.mp3", "notes.txt"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [p.name for p in find_audio_files([folder])]
    ['a.mp3', 'b.wav']
    """
    files = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found = _audio_in_folder(path, recursive)
            if not found:
                raise ValueError(
                    f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in folder {str(path)!r}"
                )
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ValueError(f"no such file or folder: {str(path)!r}")
    if not files:
        raise ValueError("no audio files given")
    return files


def audio_files_by_id(folder):
    """The audio files of a folder (searched recursively), by track id.

    The track id of a file is its name without the extension.

    Parameters
    ----------
    folder : path
        A folder of audio files named by track id.

    Returns
    -------
    by_id : dict of str to pathlib.Path
        Track id -> audio file, in the order of :func:`find_audio_files`.

    Raises
    ------
    ValueError
        As :func:`find_audio_files`, and when two files have the same track
        id (naming both).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from sktags.features import audio_files_by_id
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("123.wav", "456.mp3"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> sorted(audio_files_by_id(folder))
    ['123', '456']
    """
    by_id = {}
    for path in find_audio_files([folder]):
        if path.stem in by_id:
            raise ValueError(
                f"two audio files for track id {path.stem!r}: {str(by_id[path.stem])!r} "
                f"and {str(path)!r}"
            )
        by_id[path.stem] = path
    return by_id
