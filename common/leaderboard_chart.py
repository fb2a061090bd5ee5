"""Draw the leaderboard as a PNG: one panel per competition, CV bars with public/private marks.

    from common.leaderboard_chart import draw_leaderboard
    draw_leaderboard(build_leaderboard(read_runs(), all_competitions()), Path("results/leaderboard.png"))

Bars are CV (± std) coloured by data source; triangles and diamonds are Kaggle public and
private scores; the dashed line is the real competition's 1st-place private score, drawn only
for reference (sample-data scores are not comparable with it). Written atomically.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common.leaderboard import CompetitionBoard  # noqa: E402

_COLORS = {"kaggle": "#d95f02", "sample": "#7570b3"}


def _panel(ax, board: CompetitionBoard) -> None:
    rows = board.rows
    labels = [f"{r.variant} ({r.data_source})" for r in rows]
    y = list(range(len(rows)))[::-1]  # best at the top
    if rows:
        ax.barh(y, [r.cv for r in rows], xerr=[r.cv_std or 0 for r in rows], capsize=3,
                color=[_COLORS.get(r.data_source, "#999999") for r in rows], alpha=0.8, label="CV ± std")
        for yi, r in zip(y, rows):
            if r.public is not None:
                ax.plot(r.public, yi, "^", color="black", label="Kaggle public")
            if r.private is not None:
                ax.plot(r.private, yi, "D", color="black", fillstyle="none", label="Kaggle private")
        ax.set_yticks(y, labels, fontsize=8)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no runs yet", transform=ax.transAxes, ha="center", va="center", color="grey")
    if board.first_place is not None:
        ax.axvline(board.first_place, color="green", linestyle="--",
                   label=f"real LB 1st place {board.first_place:g} (not comparable)")
    direction = "higher is better" if board.higher_is_better else "lower is better"
    ax.set_title(f"{board.slug}: {board.metric} ({direction})", fontsize=10)
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    if unique:
        ax.legend(unique.values(), unique.keys(), fontsize=7, loc="best", framealpha=0.6)


def draw_leaderboard(boards: list[CompetitionBoard], path: Path) -> Path:
    """Write the chart to `path` (PNG) and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    heights = [1.2 + 0.35 * max(len(b.rows), 1) for b in boards] or [1.5]
    fig, axes = plt.subplots(len(heights), 1, figsize=(9, sum(heights) + 0.5),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, board in zip(axes[:, 0], boards):
        _panel(ax, board)
    fig.suptitle("kllm leaderboard: CV on sample data is not comparable with Kaggle scores", fontsize=10)
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=110)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path
