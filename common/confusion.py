"""Confusion matrices of a classifier as numbers and as a PNG: which classes are taken for which.

    counts = confusion_counts(y_true, probs.argmax(1), n_classes=7)     # counts[true, predicted]
    draw_confusion([("hidden test", counts), ("out of fold", oof_counts)], labels, Path("c.png"))

Each panel colours a row by the share of that true class given each prediction (rows sum to
1) and prints the count in the cell; the PNG is written atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from common.charts import save_png


def confusion_counts(y_true, y_pred, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) ints: row = true class, column = predicted class."""
    counts = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(counts, (np.asarray(y_true, dtype=int), np.asarray(y_pred, dtype=int)), 1)
    return counts


def draw_confusion(panels: Sequence[tuple[str, np.ndarray]], labels: Sequence[str], path: Path,
                   title: str = "") -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(labels)
    fig, axes = plt.subplots(1, len(panels), figsize=(1.0 + 0.75 * n * len(panels), 1.6 + 0.65 * n), squeeze=False)
    for ax, (name, counts) in zip(axes[0], panels):
        counts = np.asarray(counts)
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.6 else "black")
        accuracy = np.trace(counts) / max(counts.sum(), 1)
        ax.set_title(f"{name}\n{counts.sum()} rows, accuracy {accuracy:.3f}", fontsize=9)
        ax.set_xticks(range(n), labels, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(n), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_png(fig, path, dpi=120)
