"""The benchmarks' charts (lines or bars): one axes, drawn by the caller, labelled, saved atomically as PNG.

    from bench._chart import save_line_chart
    save_line_chart(path, lambda ax: ax.plot([1, 2], [3, 4], label="x"), "xs", "ys", "title")
"""
from __future__ import annotations


OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)}   # legend() options: right of the axes


def save_line_chart(path, draw, xlabel: str, ylabel: str, title: str, figsize=(7, 4), legend: dict | None = None):
    """legend: matplotlib legend() options over the default fontsize 8 (e.g. {"loc": "lower left"}, or
    OUTSIDE to keep it off the bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from common.charts import save_png

    fig, ax = plt.subplots(figsize=figsize)
    draw(ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(**{"fontsize": 8, **(legend or {})})
    fig.tight_layout()
    return save_png(fig, path, dpi=110, bbox_inches="tight")   # keeps a legend placed outside the axes


def save_ratio_chart(path, results: dict[str, list[dict]], x: str, xlabel: str, ylabel: str, title: str):
    """One line per variant and thread count of rows {"threads", x, "ratio"}, against a 1.0 line;
    rows that carry "ratio_min" and "ratio_max" get their min-max as error bars."""
    def draw(ax):
        for name, rows in results.items():
            for n in sorted({r["threads"] for r in rows}):
                mine = [r for r in rows if r["threads"] == n]
                spread = None
                if all("ratio_min" in r and "ratio_max" in r for r in mine):
                    spread = [[r["ratio"] - r["ratio_min"] for r in mine], [r["ratio_max"] - r["ratio"] for r in mine]]
                ax.errorbar([r[x] for r in mine], [r["ratio"] for r in mine], yerr=spread, marker="o", capsize=3,
                            label=f"{name}, {n}t")
        ax.axhline(1.0, color="grey", lw=0.8)

    return save_line_chart(path, draw, xlabel, ylabel, title)
