"""The real recordings bundled with sktags (free licences), for offline demos."""

from pathlib import Path

from sklearn.utils import Bunch

AUDIO_DIR = Path(__file__).resolve().parent / "audio"


def load_recordings():
    """Return the real recordings shipped with sktags, with their licences.

    Five short pieces of music under free licences (librosa's example
    recordings: one public-domain recording and four under CC BY 3.0), so that
    the demo, the examples and the documentation run offline on real audio.
    They are Ogg Vorbis files at 22,050 Hz, mono, 5 s to 133 s long.

    Returns
    -------
    recordings : :class:`~sklearn.utils.Bunch`
        With the fields

        filenames : list of pathlib.Path, length 5
            The audio files, sorted by name.
        names : list of str, length 5
            Short names: ``"brahms"``, ``"hobbs"``, ``"tchaikovsky"``,
            ``"vibe_ace"``, ``"trumpet"``.
        licences : list of str, length 5
            The licence and attribution text of each file.
        DESCR : str
            A description with the attribution of every recording.

    Examples
    --------
    >>> from sktags.demo import load_recordings
    >>> rec = load_recordings()
    >>> rec.names
    ['brahms', 'hobbs', 'tchaikovsky', 'vibe_ace', 'trumpet']
    >>> all(path.is_file() for path in rec.filenames)
    True
    """
    filenames = sorted(AUDIO_DIR.glob("*.ogg"))
    short = {
        "Hungarian": "brahms",
        "Karissa": "hobbs",
        "Kevin_MacLeod_-_P_I": "tchaikovsky",
        "Kevin_MacLeod_-_Vibe": "vibe_ace",
        "sorohanro": "trumpet",
    }
    names = []
    for path in filenames:
        name = next((v for k, v in short.items() if path.name.startswith(k)), path.stem)
        names.append(name)
    licences = [p.with_suffix(".txt").read_text(encoding="utf-8").strip() for p in filenames]
    descr = "Real recordings bundled with sktags (unmodified, free licences):\n\n" + "\n\n".join(
        f"* {p.name}\n  " + lic.replace("\n", "\n  ") for p, lic in zip(filenames, licences)
    )
    return Bunch(filenames=filenames, names=names, licences=licences, DESCR=descr)
