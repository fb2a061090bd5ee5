"""The PNG of an adversarial-judge run: each judged set's score matrix beside its components.

    draw_panels([("attack_mix, development", judged), ...], Path("results/adversarial-judge/panels.png"))

One row per judged set: a heat map of its (essays x judges) scores, essays grouped by the
attack that wrote them, and a bar chart of the five components with the metric in the title,
so a person sees why a score is high (spread across judges, spread within each judge,
English, similarity, mean).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from common.atomic import atomic_path

COMPONENTS = ("avg_q", "avg_h", "min_v", "avg_e", "avg_s")


def draw_panels(rows: Sequence[tuple[str, object, list[str] | None]], path: Path) -> Path:
    """rows: (title, Judged, attack name per essay or None). Writes the PNG atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(rows), 2, figsize=(9, 2.6 * len(rows)), squeeze=False,
                             gridspec_kw={"width_ratios": [3, 2]})
    for (title, judged, groups), (heat, bars) in zip(rows, axes):
        order = np.argsort(np.asarray(groups), kind="stable") if groups else np.arange(len(judged.scores))
        heat.imshow(judged.scores[order].T, aspect="auto", cmap="viridis", vmin=0, vmax=9, interpolation="nearest")
        heat.set_yticks(range(len(judged.judges)), judged.judges, fontsize=7)
        heat.set_xlabel("essays" + (" (grouped by attack)" if groups else ""), fontsize=7)
        heat.set_title(f"{title}: score {judged.value:.3f}", fontsize=9)
        values = [judged.components[k] for k in COMPONENTS]
        bars.bar(COMPONENTS, values, color="#4c72b0")
        for i, v in enumerate(values):
            bars.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=7)
        bars.set_ylim(0, 9.5)
        bars.tick_params(labelsize=7)
    fig.tight_layout()
    with atomic_path(Path(path), suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    return Path(path)
