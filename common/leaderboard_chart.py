"""Draw the leaderboard as a PNG: one panel per group of comparable scores, bars with Kaggle marks.

    from common.leaderboard_chart import draw_leaderboard
    draw_leaderboard(build_leaderboard(read_runs(), all_competitions()), Path("results/leaderboard.png"))

A competition gets one panel per group (`common.leaderboard.GroupKey`: metric, data source (and
a custom folder's files), kind of score, encoder, judge panel, full or --fast settings, metric version), so bars of different groups never share an axis; a competition
without runs gets one empty panel. Bars are validation scores (± std) coloured by data source;
triangles and diamonds are Kaggle public and private scores; the dashed line is the real
competition's 1st-place private score, drawn only for reference (sample-data scores are not
comparable with it). Written atomically.
"""
from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from common.charts import save_png  # noqa: E402
from common.leaderboard import CompetitionBoard, ScoreGroup  # noqa: E402

_COLORS = {"kaggle": "#d95f02", "sample": "#7570b3"}
TITLE_WIDTH = 75    # characters of a group label a title line holds over a panel of a 9-inch figure
OFF_SCALE = 3       # a 1st-place score this many times the runs' largest is named, not drawn as a line


def _panel(ax, board: CompetitionBoard, group: ScoreGroup | None) -> None:
    rows = group.rows if group else []
    # "$" escaped: matplotlib reads "$...$" as math, and a name such as "$\nope$" ended the chart in an error
    labels = [f"{r.variant} ({r.data_source}{f', by {r.author}' if r.author else ''})".replace("$", r"\$")
              for r in rows]
    y = list(range(len(rows)))[::-1]  # best at the top
    if rows:
        spread = any(r.cv_std is not None for r in rows)      # a judge panel's score has none
        ax.barh(y, [r.cv for r in rows], xerr=[r.cv_std or 0 for r in rows] if spread else None, capsize=3,
                color=[_COLORS.get(r.data_source, "#999999") for r in rows], alpha=0.8,
                hatch="//" if group.key.fast else None,              # a --fast group: hatched, not just titled
                label=f"{group.key.kind} score" + (" (--fast)" if group.key.fast else "") + (" ± std" if spread else ""))
        for yi, r in zip(y, rows):
            if r.public is not None:
                ax.plot(r.public, yi, "^", color="black", label="Kaggle public")
            if r.private is not None:
                ax.plot(r.private, yi, "D", color="black", fillstyle="none", label="Kaggle private")
        ax.set_yticks(y, labels, fontsize=8)
    else:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no runs yet", transform=ax.transAxes, ha="center", va="center", color="grey")
    off_scale = ""
    if board.first_place is not None:
        reference = f"real LB 1st place {board.first_place:g} (not comparable)"
        reach = max((abs(r.cv) + (r.cv_std or 0) for r in rows), default=0)
        if reach and abs(board.first_place) > OFF_SCALE * reach:   # the line would squash the runs' bars
            off_scale = reference + ": off this scale"      # in the title: on the panel it covered the lowest bar
        else:
            ax.axvline(board.first_place, color="green", linestyle="--", label=reference)
    higher = group.higher_is_better if group else board.higher_is_better
    metric = group.key.metric if group else board.metric
    title = f"{board.slug}: {metric} ({'higher' if higher else 'lower'} is better)"
    if group:
        title += "\n" + "\n".join(textwrap.wrap(group.key.label(metric), TITLE_WIDTH))
    if off_scale:
        title += "\n" + off_scale
    ax.set_title(title, fontsize=9)
    handles, names = ax.get_legend_handles_labels()
    unique = dict(zip(names, handles))
    if unique:
        # beside the panel, not on it: inside, it covered the top (best) bar and its error bar
        ax.legend(unique.values(), unique.keys(), fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)


def panels(boards: list[CompetitionBoard]) -> list[tuple[CompetitionBoard, ScoreGroup | None]]:
    """(board, group) per chart panel: one per group, one (board, None) per board without runs."""
    return [(b, g) for b in boards for g in (b.groups or [None])]


# Fonts tried, in order, for a letter matplotlib's own DejaVu Sans lacks (a teammate's name in CJK,
# Arabic, Hebrew, Devanagari or Thai), when installed: Noto's and WenQuanYi's Debian packages.
FALLBACK_FONTS = ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK TC", "Noto Sans CJK KR", "Source Han Sans",
                  "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback", "Noto Sans Arabic",
                  "Noto Sans Hebrew", "Noto Sans Devanagari", "Noto Sans Thai")


def label_fonts() -> list[str]:
    """DejaVu Sans, then each of FALLBACK_FONTS installed here (matplotlib takes a missing letter
    from the next font of the list; one not installed would only be a warning).

        label_fonts()   # ['DejaVu Sans', 'WenQuanYi Zen Hei'] with fonts-wqy-zenhei installed
    """
    from matplotlib import font_manager

    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return ["DejaVu Sans"] + [name for name in FALLBACK_FONTS if name in installed]


def draw_leaderboard(boards: list[CompetitionBoard], path: Path) -> Path:
    """Write the chart to `path` (PNG) and return it."""
    font_log = logging.getLogger("matplotlib.font_manager")
    level = font_log.level
    font_log.setLevel(logging.ERROR)     # a fallback font without a "normal" weight is said once a label
    try:
        with plt.rc_context({"font.family": label_fonts()}):
            return _draw(boards, Path(path))
    finally:
        font_log.setLevel(level)


def _draw(boards: list[CompetitionBoard], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    shown = panels(boards)
    heights = [1.4 + 0.35 * max(len(g.rows) if g else 1, 1) for _, g in shown] or [1.5]
    top = 0.6                                              # inches above the panels for the two-line title
    fig, axes = plt.subplots(len(heights), 1, figsize=(9, sum(heights) + top),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (board, group) in zip(axes[:, 0], shown):
        _panel(ax, board, group)
    fig.suptitle("kllm leaderboard: one panel per group of comparable scores\n(data, kind, encoder, panel, --fast, metric version); "
                 "scores on sample data are not comparable with Kaggle scores", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 1 - top / fig.get_figheight()))
    return save_png(fig, path, dpi=110)
