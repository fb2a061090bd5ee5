"""Saving a matplotlib figure as a PNG: every chart of the project goes through here.

    fig, ax = plt.subplots()
    ...
    save_png(fig, Path("results/leaderboard.png"), dpi=110)   # written whole, figure closed
"""
from __future__ import annotations

from pathlib import Path

from common.atomic import atomic_path
from common.errors import UserError


def save_png(fig, path, **savefig_options) -> Path:
    """`fig` written as a PNG at `path` through a temp file (a chart is never half-written), then
    closed. A disk that cannot take it (full, read-only) is a UserError naming the file."""
    import matplotlib.pyplot as plt

    path = Path(path)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", **savefig_options)
    except OSError as err:
        raise UserError(f"cannot write the chart {path}: {err.strerror or err}") from None
    finally:
        plt.close(fig)
    return path
