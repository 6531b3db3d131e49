"""What a parameter or a file declares is checked before it is allocated or turned into features.

Non-finite audio and features are recorded failures naming the file (or an
error under ``on_error="raise"``), parameters are refused declaratively, and
sizes over the documented limits of ``sktags.features._limits`` fail with a
message that says what to change.
"""

import warnings

import numpy as np
import pytest
import soundfile as sf
from sklearn.utils._param_validation import InvalidParameterError

from sktags.features import MelSpectrogramTransformer, extract_to_file

MEL = dict(offset=0.0, duration=1.0)


@pytest.fixture(scope="module")
def wavs(tmp_path_factory):
    d = tmp_path_factory.mktemp("wavs")
    rng = np.random.default_rng(0)
    good = rng.uniform(-0.5, 0.5, 22050).astype(np.float32)
    paths = {}
    for name, y in [("good", good), ("inf", np.r_[good[:100], np.inf, good[101:]]),
                    ("nan", np.r_[good[:5000], np.nan, good[5001:]]),
                    ("huge", np.full(22050, 1e30, np.float32))]:
        paths[name] = str(d / f"{name}.wav")
        sf.write(paths[name], np.asarray(y, np.float32), 22050, subtype="FLOAT")
    return paths


@pytest.mark.parametrize("bad, reason", [
    ("inf", "NaN or infinity"), ("nan", "NaN or infinity"), ("huge", "would overflow")])
def test_non_finite_audio_is_a_recorded_failure_naming_the_file(wavs, tmp_path, bad, reason):
    X = [wavs["good"], wavs[bad]]
    mel = MelSpectrogramTransformer(**MEL, on_error="zeros")
    with pytest.warns(UserWarning, match=reason):
        result = mel.extract(X)
    assert result.failed.tolist() == [1]
    assert f"{bad}.wav" in result.errors[0] and reason in result.errors[0]
    assert np.isfinite(result.features).all() and not result.features[1].any()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on_disk = extract_to_file(X, tmp_path / "f.npy", transformer=mel)
        assert on_disk.failed.tolist() == [1] and np.isfinite(on_disk.features).all()
        whole = extract_to_file(X, tmp_path / "w.npy", transformer=mel.set_params(duration=None))
        assert whole.failed.tolist() == [1] and np.isfinite(np.load(whole.path)).all()
    with pytest.raises(ValueError, match=rf"X\[1\] = .*{bad}.wav.*{reason}"):
        MelSpectrogramTransformer(**MEL).transform(X)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow being tested
def test_non_finite_features_are_a_failure_even_when_the_audio_passed(wavs, monkeypatch):
    """The feature itself is checked: a second line behind the amplitude bound."""
    from sktags.features import _waveform

    monkeypatch.setattr(_waveform, "MAX_ABS_AMPLITUDE", np.inf)
    mel = MelSpectrogramTransformer(**MEL, on_error="zeros")
    with pytest.warns(UserWarning, match="non-finite values"):
        result = mel.extract([wavs["huge"], wavs["good"]])
    assert result.failed.tolist() == [0] and "huge.wav" in result.errors[0]
    assert np.isfinite(result.features).all()


@pytest.mark.parametrize("param, value", [
    ("sr", 0), ("sr", -22050), ("sr", True), ("sr", 10**9), ("n_fft", 0), ("n_fft", False),
    ("n_fft", 2**30), ("hop_length", 0), ("hop_length", True), ("n_mels", 0),
    ("n_mels", 10**6), ("offset", -1.0), ("offset", True), ("offset", np.inf),
    ("duration", 0.0), ("duration", False), ("duration", np.nan), ("duration", 36000.0),
    ("n_jobs", True), ("n_jobs", 0),
])
def test_bad_numbers_are_refused_naming_the_parameter(param, value):
    mel = MelSpectrogramTransformer(**{param: value})
    X = [np.zeros(22050, np.float32)]
    for call in (mel.fit, mel.transform):
        with pytest.raises(InvalidParameterError, match=rf"The '{param}' parameter of "
                                                        "MelSpectrogramTransformer must be"):
            call(X)


@pytest.mark.parametrize("param, value", [("sr", 0), ("hop_length", True), ("n_mels", -1)])
def test_front_end_configuration_refuses_them_too(param, value):
    """The configuration the workers receive has the same constraints (one definition)."""
    from sktags.features._config import FrontEndConfig

    with pytest.raises(InvalidParameterError, match=rf"The '{param}' parameter of FrontEndConfig"):
        FrontEndConfig(**{param: value})


def test_features_larger_than_memory_are_refused_before_allocating(monkeypatch):
    from sktags.features import _limits

    monkeypatch.setattr(_limits, "memory_bytes", lambda: 10**6)
    mel = MelSpectrogramTransformer(offset=0.0, duration=3600.0)
    with pytest.raises(ValueError, match=r"the features of 3 clips of 96 x 77520 frames would "
                                         r"take .* GiB, more than this machine's memory .*"
                                         "extract_to_file, or shorten duration"):
        mel.transform([np.zeros(100, np.float32)] * 3)


def test_check_window_refuses_windows_over_the_limit(monkeypatch):
    from sktags.features import _limits

    _limits.check_window(_limits.MAX_WINDOW_FRAMES, n_mels=96, batch_size=2)
    with pytest.raises(ValueError, match=r"crop_frames=65537 frames is over the limit of 65536"):
        _limits.check_window(_limits.MAX_WINDOW_FRAMES + 1)
    monkeypatch.setattr(_limits, "memory_bytes", lambda: 2**30)
    with pytest.raises(ValueError, match=r"a batch of 4096 windows of 96 x 1000 frames .*"
                                         "lower batch_size or crop_frames"):
        _limits.check_window(1000, n_mels=96, batch_size=4096)
