"""The benchmarks' charts (lines or bars): one axes, drawn by the caller, labelled, saved atomically as PNG.

    from bench._chart import save_line_chart
    save_line_chart(path, lambda ax: ax.plot([1, 2], [3, 4], label="x"), "xs", "ys", "title")
"""
from __future__ import annotations


def save_line_chart(path, draw, xlabel: str, ylabel: str, title: str, figsize=(7, 4), legend: dict | None = None):
    """legend: matplotlib legend() options over the default fontsize 8 (e.g. {"loc": "lower left"})."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from common.atomic import atomic_path

    fig, ax = plt.subplots(figsize=figsize)
    draw(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(**{"fontsize": 8, **(legend or {})})
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return path


def save_ratio_chart(path, results: dict[str, list[dict]], x: str, xlabel: str, ylabel: str, title: str):
    """One line per variant and thread count of rows {"threads", x, "ratio"}, against a 1.0 line."""
    def draw(ax):
        for name, rows in results.items():
            for n in sorted({r["threads"] for r in rows}):
                mine = [r for r in rows if r["threads"] == n]
                ax.plot([r[x] for r in mine], [r["ratio"] for r in mine], marker="o", label=f"{name}, {n}t")
        ax.axhline(1.0, color="grey", lw=0.8)

    return save_line_chart(path, draw, xlabel, ylabel, title)
