"""Every example runs with ``--quick`` (in a subprocess, as a user would run it)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"

# example -> (needs ../shared data, text its output must contain)
CASES = {
    "plot_quick_start.py": (None, "macro avg"),
    "plot_grid_search_weighting.py": (None, "selected:"),
    "plot_dataset_analysis.py": (None, "49,929 tracks"),
    "full_paper_protocol.py": (None, "tuned thresholds"),
    "evaluate_real_audio.py": ("data/emotion_4q_dev/clips.csv", "logistic regression"),
}


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_runs_quick(name, tmp_path, request):
    needs, expected = CASES[name]
    argv = [sys.executable, str(EXAMPLES / name), "--quick"]
    if needs is not None:
        shared = request.getfixturevalue("shared_dir")
        if not (shared / needs).is_file():
            pytest.skip(f"{shared / needs} is absent")
        argv += ["--data", str((shared / needs).parent)]
    if name.startswith("plot_"):
        argv += ["--out", str(tmp_path / "figures")]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    before = set(ROOT.rglob("*.mp3")) if needs else None
    res = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env,
                         timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    assert expected in res.stdout
    if name.startswith("plot_"):
        assert list((tmp_path / "figures").glob("*.png"))
    if needs:
        # the 4Q audio is read in place, never copied into the repository
        assert set(ROOT.rglob("*.mp3")) == before
