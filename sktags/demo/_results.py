"""What the end-to-end demo returns: one dataclass per part, and the whole."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..utils import atomic_path

#: Column headers of the printed Table 2.
SHORT_METRIC_NAMES = {
    "hamming_loss": "HL",
    "roc_auc": "AUC",
    "recall": "Recall",
    "precision": "Precision",
    "f1": "F1",
    "tn_rate": "TN rate",
}


def text_table(rows, columns, row_header, fmt="{:.3f}"):
    """A plain-text table; ``rows`` is a list of ``(name, values)``."""
    width = max(len(row_header), *(len(r[0]) for r in rows))
    head = f"{row_header:<{width}}  " + "  ".join(f"{c:>9}" for c in columns)
    lines = [head, "-" * len(head)]
    for name, values in rows:
        lines.append(f"{name:<{width}}  " + "  ".join(f"{fmt.format(v):>9}" for v in values))
    return "\n".join(lines)


def csv_table(table, row_header):
    """CSV text of a ``{row name: {column: value}}`` table."""
    columns = list(next(iter(table.values())))
    lines = [",".join([row_header, *columns])]
    for name, row in table.items():
        lines.append(",".join([f'"{name}"', *(f"{row[c]:.6f}" for c in columns)]))
    return "\n".join(lines) + "\n"


def write_text(path, text):
    """Write ``text`` to ``path`` atomically (UTF-8); return ``path``."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
    return Path(path)


def _indent(text, pad="  "):
    return pad + text.replace("\n", "\n" + pad)


@dataclass
class ReleasedResults:
    """Part 1: statistics of the released label matrix and of its weights.

    Attributes
    ----------
    n_tracks, n_contexts : int
        Shape of the released matrix.
    labels_per_track : float
        Mean number of labels per track.
    n_all_contexts : int
        Tracks carrying all contexts.
    positives : dict of str to int
        Positives per context.
    top_pairs : list of (str, str, int)
        The three most frequent context pairs with their track counts.
    n_rows_weighted : int
        Rows the weights were fitted on (all of them, or a subset in quick mode).
    weight_stats : dict
        Per negative scheme: mean, median, share below 0.5, share equal to 1
        of the negative weights, fit-and-transform seconds, and the mean
        negative weight per context.
    files : list of pathlib.Path
        What this part wrote.
    """

    n_tracks: int
    n_contexts: int
    labels_per_track: float
    n_all_contexts: int
    positives: dict
    top_pairs: list
    n_rows_weighted: int
    weight_stats: dict
    files: list = field(default_factory=list)

    def __str__(self):
        rows = [
            (s, [v["mean_negative_weight"], v["median_negative_weight"], v["share_below_0.5"],
                 v["share_equal_1"], v["seconds"]])
            for s, v in self.weight_stats.items()
        ]
        lines = [
            f"  loaded {self.n_tracks:,} tracks x {self.n_contexts} contexts "
            "(bundled copy of Zenodo 3648287)",
            f"  labels per track: mean {self.labels_per_track:.2f}; tracks with all "
            f"{self.n_contexts}: {self.n_all_contexts:,}",
            "  positives per context: " + ", ".join(f"{n} {c:,}" for n, c in self.positives.items()),
        ]
        if self.n_rows_weighted < self.n_tracks:
            lines.append(f"  (quick: weights on a random {self.n_rows_weighted:,}-track subset)")
        lines += [
            "  most frequent pairs: " + ", ".join(f"{a}+{b} {c:,}" for a, b, c in self.top_pairs),
            "",
            "  Negative weights P(y_c = 0 | y_i) on the released matrix (fit and transform "
            "on it, as the authors did):",
            _indent(text_table(rows, ["mean", "median", "<0.5", "==1", "fit+tf s"], "scheme")),
            "  (TF-IDF positive weights need per-track playlist counts, which Zenodo does "
            "not publish:",
            "   see load_context_tags(counts_file=...) and examples/plot_dataset_analysis.py)",
        ]
        return "\n".join(lines)


@dataclass
class AudioResults:
    """Part 2: the log-mel front end on the bundled recordings.

    Attributes
    ----------
    names : list of str
        The recordings.
    filenames : list of pathlib.Path
    shape : tuple of int
        Shape of the feature array, (n_files, 1, n_mels, n_frames).
    mean_logmel : dict of str to float
        Mean log-mel of each recording.
    first_pass_s, cached_pass_s : float
        Seconds of the first transform and of the cached second one.
    files : list of pathlib.Path
        What this part wrote.
    """

    names: list
    filenames: list
    shape: tuple
    mean_logmel: dict
    first_pass_s: float
    cached_pass_s: float
    files: list = field(default_factory=list)

    def __str__(self):
        n = len(self.names)
        lines = [
            f"  {n} real recordings (Ogg Vorbis, 5 s to 133 s) -> {self.shape} float32 log-mels,",
            "  the paper's front end: 22,050 Hz mono, n_fft 1024, hop 1024, 96 mel bands, the 30-60 s",
            "  excerpt (for a shorter track: its last 30 s, or the whole track zero-padded), "
            "log(1 + 100 mel)",
            f"  first pass {self.first_pass_s:.2f} s ({n / self.first_pass_s:.1f} files/s); "
            f"cached second pass {self.cached_pass_s * 1000:.0f} ms",
        ]
        for name, path in zip(self.names, self.filenames):
            lines.append(f"    {name:<12} {self.mean_logmel[name]:6.3f} mean log-mel   ({Path(path).name})")
        return "\n".join(lines)

    def to_dict(self):
        return {"n_files": len(self.names), "shape": list(self.shape),
                "first_pass_s": self.first_pass_s, "cached_pass_s": self.cached_pass_s}


@dataclass
class Table2Results:
    """Part 3: the five weighting configurations on constructed clips.

    Attributes
    ----------
    target_names : list of str
        The contexts of the constructed set.
    sources : dict of str to str
        The source mixed in for each context.
    n_train, n_test : int
        Training and held-out clips.
    n_hidden, n_true_positives : int
        Hidden and true positives of the training labels.
    recovery : dict
        Per negative scheme, before any training: mean weight of the hidden
        positives and of the true negatives, and the AUC of ranking the hidden
        positives below the true negatives.
    y_true, y_observed : ndarray of shape (n_test, n_contexts), uint8
        True and observed (incomplete) labels of the held-out clips.
    predictions : dict of str to ndarray of shape (n_test, n_contexts)
        Held-out probabilities of each configuration, keyed by its Table 2 name.
    reports_true, reports_observed : dict of str to ContextReport
        Table 1 of each configuration against the true / observed labels
        (threshold 0.5).
    training_seconds : float
        Wall time of training the five configurations.
    n_jobs : int
        Parallel workers used.
    files : list of pathlib.Path
        What this part wrote.
    """

    target_names: list
    sources: dict
    n_train: int
    n_test: int
    clip_duration: float
    n_hidden: int
    n_true_positives: int
    recovery: dict
    y_true: np.ndarray
    y_observed: np.ndarray
    predictions: dict
    reports_true: dict
    reports_observed: dict
    training_seconds: float
    n_jobs: int
    model: str = ""
    files: list = field(default_factory=list)

    @staticmethod
    def _macro(report):
        return {m: float(v) for m, v in zip(report.metrics, np.asarray(report.macro))}

    @property
    def table2_true(self):
        """dict : ``{configuration: {metric: macro average}}`` against the true labels."""
        return {n: self._macro(r) for n, r in self.reports_true.items()}

    @property
    def table2_observed(self):
        """dict : The same against the observed (incomplete) held-out labels."""
        return {n: self._macro(r) for n, r in self.reports_observed.items()}

    @property
    def best(self):
        """str : The configuration with the highest macro F1 against the true labels."""
        table = self.table2_true
        return max(table, key=lambda n: table[n].get("f1", 0.0))

    def __str__(self):
        first = next(iter(self.reports_true))
        true, obs = self.table2_true, self.table2_observed
        metrics = list(true[first])
        short = [SHORT_METRIC_NAMES.get(m, m) for m in metrics]
        rec_rows = [(n, [v["mean_weight_hidden_positives"], v["mean_weight_true_negatives"],
                         v["auc_hidden_vs_true_negative"]]) for n, v in self.recovery.items()]
        share = self.n_hidden / max(self.n_true_positives, 1)
        lines = [
            f"  {self.n_train} training and {self.n_test} test clips of {self.clip_duration} s; "
            f"tags: {', '.join(self.target_names)}",
            "  sources (arbitrary assignment): "
            + ", ".join(f"{c} <- {s}" for c, s in self.sources.items()),
            "  training excerpts come from the first 70% of each recording, test excerpts from "
            "the last 30%",
            f"  true positives hidden in the training labels: {self.n_hidden} of "
            f"{self.n_true_positives} ({share:.0%})",
            "",
            "  Negative weights on the training labels: hidden positives should get LOW weights",
            _indent(text_table(rec_rows, ["hidden+", "true neg", "AUC"], "scheme")),
            "  (AUC: chance that a hidden positive gets a lower weight than a true negative; "
            "0.5 = blind)",
            "",
            f"  The {len(true)} weighting configurations of Table 2, each trained on the "
            f"observed labels ({self.model}):",
            f"  {self.training_seconds:.1f} s ({self.n_jobs} parallel "
            f"worker{'s' if self.n_jobs > 1 else ''})",
            "",
            "  TABLE 2 (macro averages, threshold 0.5) against the TRUE labels of the held-out clips:",
            _indent(text_table([(n, list(r.values())) for n, r in true.items()], short, "weighting")),
            "",
            "  The same predictions against the OBSERVED (incomplete) held-out labels -- all the "
            "paper could measure:",
            _indent(text_table([(n, list(r.values())) for n, r in obs.items()], short, "weighting")),
            "",
            f"  TABLE 1 (per context) for the best configuration by true macro F1, '{self.best}', "
            "vs TRUE labels:",
            _indent(str(self.reports_true[self.best])),
        ]
        if self.best != first:
            lines += ["", f"  TABLE 1 for '{first}', vs TRUE labels:",
                      _indent(str(self.reports_true[first]))]
        return "\n".join(lines)


@dataclass
class DemoResults:
    """Everything :func:`run_demo` measured and wrote.

    Attributes
    ----------
    released : ReleasedResults
        Part 1, the released label matrix.
    audio : AudioResults
        Part 2, the front end on the bundled recordings.
    table2 : Table2Results
        Part 3, the weighting configurations on constructed clips.
    settings : dict
        The sizes and options of the run.
    machine : dict
        Python version and platform.
    total_seconds : float
        Wall time of the whole run.
    out_dir : pathlib.Path
        The output folder.
    files : list of pathlib.Path
        Every file written, ``results.json`` and ``README.txt`` included.
    """

    released: ReleasedResults
    audio: AudioResults
    table2: Table2Results
    settings: dict
    machine: dict
    total_seconds: float
    out_dir: Path
    files: list = field(default_factory=list)

    def to_dict(self):
        """The JSON-able summary written to ``results.json``.

        Returns
        -------
        summary : dict
        """
        t2 = self.table2
        first = next(iter(t2.reports_true))
        return {
            "released_weight_stats": self.released.weight_stats,
            "recovery_before_training": t2.recovery,
            "training_seconds": t2.training_seconds,
            "table2_true_labels": t2.table2_true,
            "table2_observed_labels": t2.table2_observed,
            "best_by_true_f1": t2.best,
            "table1_best_true_labels": t2.reports_true[t2.best].to_dict(),
            "table1_no_weights_true_labels": t2.reports_true[first].to_dict(),
            "audio": self.audio.to_dict(),
            "settings": self.settings,
            "machine": self.machine,
            "total_seconds": self.total_seconds,
            "files": [str(p) for p in self.files],
        }

    def to_json(self):
        """``to_dict()`` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=1, default=float)
