"""Features on the command line: the front end's options, and DATA as features.

The feature file and its index are the library's
(:func:`sktags.features.write_features`, :func:`sktags.features.load_features`).
"""

import sys
from pathlib import Path

from ._errors import CLIError, CLIUsageError
from ._paths import audio_by_id, collect_audio
from ._tables import SKIP_MISSING_HINT, align

#: The front end's parameters that define the features (sktags.features.FRONT_END_KEYS).
MEL_KEYS = ("sr", "n_fft", "hop_length", "n_mels", "offset", "duration", "compression")
_FLAGS = {k: "--" + k.replace("_", "-") for k in MEL_KEYS}


def mel_defaults():
    """The front end's defaults (the paper's), from :class:`MelSpectrogramTransformer` itself."""
    from ..features import MelSpectrogramTransformer

    params = MelSpectrogramTransformer().get_params()
    return {k: params[k] for k in MEL_KEYS}


def add_mel_arguments(parser):
    """Front-end options; unset ones take :class:`MelSpectrogramTransformer`'s defaults."""
    d = mel_defaults()
    g = parser.add_argument_group("log-mel front end (defaults: the paper's)")
    g.add_argument("--sr", type=int, default=None, help=f"sample rate in Hz ({d['sr']})")
    g.add_argument("--n-fft", type=int, default=None, help=f"FFT size ({d['n_fft']})")
    g.add_argument("--hop-length", type=int, default=None, help=f"hop in samples ({d['hop_length']})")
    g.add_argument("--n-mels", type=int, default=None, help=f"mel bands ({d['n_mels']})")
    g.add_argument("--offset", type=float, default=None, help=f"excerpt start in s ({d['offset']})")
    g.add_argument("--duration", type=float, default=None, help=f"excerpt length in s ({d['duration']})")
    g.add_argument("--compression", default=None, choices=["log1p", "db", "musicnn"],
                   help="log(1 + 100 mel), decibels, or musicnn's log10(1 + 10000 mel) "
                   f"({d['compression']})")


def mel_options_given(args):
    """The front-end options set on the command line, as flags (``--n-mels``, ...)."""
    return [_FLAGS[k] for k in MEL_KEYS if getattr(args, k, None) is not None]


def mel_params(args, *, musicnn=False):
    """The front-end parameters: the options given, the defaults (or musicnn's) for the others."""
    params = mel_defaults()
    if musicnn:
        from ..pretrained import musicnn_frontend

        params.update({k: v for k, v in musicnn_frontend().get_params().items() if k in MEL_KEYS})
    params.update({k: getattr(args, k) for k in MEL_KEYS if getattr(args, k, None) is not None})
    return params


def add_cache_arguments(parser):
    parser.add_argument("--cache", metavar="DIR", default=None, help="per-file feature cache directory")
    parser.add_argument("--jobs", "-j", type=int, default=None,
                        help="parallel decoding processes (-1: all cores)")


def make_transformer(params, *, cache=None, jobs=None, verbose=0, on_error="raise"):
    """A :class:`MelSpectrogramTransformer` with front-end ``params`` and run options."""
    from ..features import MelSpectrogramTransformer

    return MelSpectrogramTransformer(**params, n_jobs=jobs, memory=cache, verbose=verbose,
                                     on_error=on_error)


def refuse_mel_options_with_features(args, path):
    """Front-end options do not apply to a feature file: refuse them (exit status 2)."""
    given = mel_options_given(args)
    if given:
        raise CLIUsageError(
            f"{', '.join(given)} set(s) the front end for audio, but {str(path)!r} is a feature "
            "file whose front end is fixed by its index; drop the option(s) or extract again "
            "with `sktags extract`"
        )


def features_for(data, ids_wanted=None, *, mel, what, skip_missing=False, verbose=0,
                 check_model_front_end=False, command="train", ragged=False):
    """Features for a DATA argument: a feature file, an audio folder or audio files.

    Returns ``(X, ids, keep)``: features in the order of ``ids_wanted`` (only
    the ``keep`` positions of it when some are skipped or failed to decode),
    or of the files. A feature file of whole tracks is accepted with ``ragged``.
    """
    from ..features import check_front_end, load_features, select_features

    data = [Path(d) for d in data]
    if len(data) == 1 and data[0].suffix == ".npy":
        X, meta = load_features(data[0], ragged=ragged)
        if check_model_front_end:
            check_front_end(meta, mel, data[0])
        if ids_wanted is None:
            return X, meta["ids"], None
        try:
            X, ids, keep, failed = select_features(
                X, meta, ids_wanted, skip_missing=skip_missing, what=what, where=str(data[0]),
                hint=SKIP_MISSING_HINT)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
        if failed:
            shown = ", ".join(map(repr, failed[:5])) + (
                f" and {len(failed) - 5} more" if len(failed) > 5 else "")
            print(f"sktags {command}: excluding {len(failed)} track(s) whose audio could not be "
                  f"decoded (marked failed in the index of {str(data[0])!r}): {shown}",
                  file=sys.stderr)
        if not ids:
            raise CLIError(f"no {what} left: every one failed to decode in {str(data[0])!r}")
        return X, ids, keep
    if ids_wanted is None:
        files = collect_audio(data)
        ids = [p.stem for p in files]
    else:
        if len(data) != 1 or not data[0].is_dir():
            raise CLIError(
                "with a labels file, DATA must be one audio folder (files named by track id) "
                "or one feature file (.npy from `sktags extract`)"
            )
        by_id = audio_by_id(data[0])
        keep, _ = align(ids_wanted, list(by_id), what=what, where=str(data[0]),
                        skip_missing=skip_missing)
        ids = [ids_wanted[i] for i in keep]
        files = [by_id[i] for i in ids]
    mel = mel.set_params(verbose=verbose, on_error="raise")
    X = mel.fit_transform([str(f) for f in files])
    return X, ids, (None if ids_wanted is None else keep)
