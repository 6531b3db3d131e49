"""Convert musicnn's released TF1 checkpoints to safetensors, once.

Run in a THROWAWAY virtual environment, never in sktags' own: it needs
TensorFlow 2 (for ``tf.compat.v1``), numpy < 2 (musicnn's front end relies
on numpy 1's value-based casting) and librosa::

    python3 -m venv /tmp/tfenv
    /tmp/tfenv/bin/pip install "tensorflow-cpu==2.15.*" "numpy<2" \\
        "librosa==0.10.2.post1" safetensors
    pip download --no-deps musicnn==0.1.0 -d /tmp/musicnn_whl
    /tmp/tfenv/bin/python tools/convert_musicnn.py \\
        --wheel /tmp/musicnn_whl/musicnn-0.1.0-py3-none-any.whl

It checks the wheel's SHA-256, then writes, from the repository root:

* ``sktags/pretrained/weights/{msd,mtt}_musicnn.safetensors``: the
  inference variables of ``MSD_musicnn`` and ``MTT_musicnn`` (optimizer
  slots dropped) under their TensorFlow names and in TensorFlow's layout,
  float32;
* ``sktags/pretrained/weights/provenance.json``: the wheel's name and
  SHA-256, each tensor's name, shape and SHA-256, the 50 tag names of each
  model, and this command;
* ``sktags/pretrained/weights/LICENSE-musicnn.txt``: musicnn's ISC licence;
* ``tests/fixtures/musicnn_fidelity.npz``: for the bundled test recordings,
  the float16 mel patches musicnn's own ``extractor.batch_data`` computes
  and the per-patch outputs (taggram, penultimate layer, mean and max pools)
  of musicnn's own TF graph (the wheel's ``models.py``) for both models.

Nothing of the wheel but the weights, tag names and licence text is
written; the wheel is read from a temporary directory.
"""

import argparse
import ast
import hashlib
import json
import os
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"
MODELS = {"msd": "MSD_musicnn", "mtt": "MTT_musicnn"}
LABELS = {"msd": "MSD_LABELS", "mtt": "MTT_LABELS"}
#: Bundled CC recordings of the fidelity fixture (tests/fixtures/audio).
FIXTURE_AUDIO = (
    "Hungarian_Dance_number_5_excerpt.ogg",
    "Kevin_MacLeod_-_Vibe_Ace_excerpt_stereo.mp3",
    "sorohanro_-_solo-trumpet-06.ogg",
)
N_FRAMES = 187
ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "sktags" / "pretrained" / "weights"
FIXTURE = ROOT / "tests" / "fixtures" / "musicnn_fidelity.npz"


def sha256_of(data):
    return hashlib.sha256(data).hexdigest()


def atomic_write(path, write):
    """Call ``write(tmp_path)`` then move the file into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix="." + path.name, suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_labels(configuration_py):
    """The tag lists of musicnn's configuration.py, parsed (not executed)."""
    tree = ast.parse(configuration_py)
    labels = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            name = getattr(node.targets[0], "id", None)
            if name in LABELS.values():
                labels[name] = ast.literal_eval(node.value)
    return {key: labels[name] for key, name in LABELS.items()}


def read_variables(prefix):
    """Inference variables of a TF1 checkpoint: name -> float32 array."""
    import tensorflow as tf

    reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    out = {}
    for name in sorted(reader.get_variable_to_shape_map()):
        if name.endswith(("/Adam", "/Adam_1")) or name in ("beta1_power", "beta2_power"):
            continue
        out[name] = np.ascontiguousarray(reader.get_tensor(name), dtype=np.float32)
    return out


def musicnn_outputs(package_dir, model, patches):
    """Per-patch outputs of musicnn's own graph (the wheel's models.py)."""
    import tensorflow as tf

    from musicnn import configuration as config
    from musicnn import models

    n_classes = len(config.MSD_LABELS if "MSD" in model else config.MTT_LABELS)
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, N_FRAMES, config.N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        (y, _timbral, _temporal, _cnn1, _cnn2, _cnn3,
         mean_pool, max_pool, penultimate) = models.define_model(x, is_training, model, n_classes)
        taggram = tf.nn.sigmoid(y)
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(sess, os.path.join(package_dir, model) + "/")
        out = sess.run([taggram, penultimate, mean_pool, max_pool],
                       feed_dict={x: patches, is_training: False})
    return dict(zip(("taggram", "penultimate", "mean_pool", "max_pool"), out))


def fidelity_fixture(package_dir):
    """Patches of musicnn's front end and both models' outputs for FIXTURE_AUDIO."""
    import librosa
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    from musicnn import configuration as config
    from musicnn import extractor

    arrays, counts = {}, []
    quantised = []
    for name in FIXTURE_AUDIO:
        path = ROOT / "tests" / "fixtures" / "audio" / name
        # musicnn's own front end (log of the float16 mel, numpy 1 casting)
        batch, _ = extractor.batch_data(str(path), N_FRAMES, N_FRAMES)
        # the same mel, kept as the float16 values musicnn takes the log of
        audio, sr = librosa.load(str(path), sr=config.SR)
        mel = librosa.feature.melspectrogram(
            y=audio, sr=sr, hop_length=config.FFT_HOP, n_fft=config.FFT_SIZE,
            n_mels=config.N_MELS).T.astype(np.float16)
        n = batch.shape[0]
        q = np.stack([mel[i * N_FRAMES:(i + 1) * N_FRAMES] for i in range(n)])
        logged = np.log10(np.float32(10000) * q.astype(np.float32) + np.float32(1))
        if not np.array_equal(logged, batch):
            raise RuntimeError(f"{name}: the float16 mel does not reproduce batch_data")
        quantised.append(q)
        counts.append(n)
    patches = np.concatenate(quantised)
    arrays["mel_float16"] = patches  # (n_patches, 187, 96), musicnn's (time, freq) order
    arrays["n_patches"] = np.array(counts, dtype=np.int64)
    arrays["files"] = np.array(FIXTURE_AUDIO)
    x = np.log10(np.float32(10000) * patches.astype(np.float32) + np.float32(1))
    for key, model in MODELS.items():
        for output, value in musicnn_outputs(package_dir, model, x).items():
            arrays[f"{key}_{output}"] = np.asarray(value, dtype=np.float32)
    return arrays


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", required=True, help="musicnn-0.1.0-py3-none-any.whl")
    parser.add_argument("--no-fixture", action="store_true",
                        help="write the weights only, not the fidelity fixture")
    args = parser.parse_args(argv)
    from safetensors.numpy import save_file

    wheel = Path(args.wheel)
    digest = sha256_of(wheel.read_bytes())
    if digest != WHEEL_SHA256:
        sys.exit(f"{wheel}: SHA-256 {digest} is not musicnn 0.1.0's {WHEEL_SHA256}")

    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        zf.extractall(tmp)
        package_dir = os.path.join(tmp, "musicnn")
        labels = read_labels(Path(package_dir, "configuration.py").read_text())
        licence = Path(tmp, "musicnn-0.1.0.dist-info", "LICENSE.md").read_text()
        provenance = {
            "source": {
                "package": "musicnn 0.1.0 (PyPI)",
                "wheel": wheel.name,
                "sha256": digest,
                "licence": "ISC",
                "authors": "Jordi Pons and Xavier Serra, Music Technology Group, "
                           "Universitat Pompeu Fabra",
            },
            "converter": f"python tools/convert_musicnn.py --wheel {wheel.name}",
            "layout": "TensorFlow names and layouts: conv kernels (kh, kw, in, out), "
                      "dense kernels (in, out); batch norms eps=1e-3",
            "models": {},
        }
        for key, model in MODELS.items():
            tensors = read_variables(os.path.join(package_dir, model) + "/")
            out = WEIGHTS / f"{key}_musicnn.safetensors"
            atomic_write(out, lambda p, t=tensors, m=model: save_file(
                t, p, metadata={"model": m, "source_sha256": digest}))
            provenance["models"][key] = {
                "checkpoint": model,
                "file": out.name,
                "file_sha256": sha256_of(out.read_bytes()),
                "n_parameters": int(sum(v.size for v in tensors.values())),
                "tags": labels[key],
                "tensors": {
                    name: {"shape": list(v.shape), "sha256": sha256_of(v.tobytes())}
                    for name, v in tensors.items()
                },
            }
            print(f"{out.relative_to(ROOT)}: {len(tensors)} tensors, "
                  f"{provenance['models'][key]['n_parameters']} parameters")
        atomic_write(WEIGHTS / "provenance.json", lambda p: Path(p).write_text(
            json.dumps(provenance, indent=1) + "\n"))
        atomic_write(WEIGHTS / "LICENSE-musicnn.txt", lambda p: Path(p).write_text(
            "musicnn (https://github.com/jordipons/musicnn), ISC licence.\n"
            "The files msd_musicnn.safetensors and mtt_musicnn.safetensors are "
            "converted from its released checkpoints.\n\n" + licence.strip() + "\n"))
        if not args.no_fixture:
            sys.path.insert(0, tmp)
            arrays = fidelity_fixture(package_dir)

            def write_fixture(p):
                with open(p, "wb") as fh:
                    np.savez_compressed(fh, **arrays)

            atomic_write(FIXTURE, write_fixture)
            print(f"{FIXTURE.relative_to(ROOT)}: {int(arrays['n_patches'].sum())} patches")


if __name__ == "__main__":
    main()
