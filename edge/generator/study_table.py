"""The compression study's table (markdown, one row per variant) and its speed-vs-perplexity chart.

    print(format_table(rows, StudyConfig()))        # rows: edge/generator/study.py's report rows
    save_chart(rows, Path("speed_vs_perplexity.png"))   # the Pareto front marked
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from common.charts import save_png

if TYPE_CHECKING:
    from edge.generator.study import StudyConfig


def format_table(rows: list[dict], config: StudyConfig) -> str:
    t1, t2 = min(config.threads), max(config.threads)
    with_task = any(r.get("task") is not None for r in rows)
    head = (f"| variant | size MB | prefill tok/s ({t2}t) | decode tok/s {t1}t | decode tok/s {t2}t | "
            f"decode vs ONNX fp32 ({t2}t) | {config.new_tokens}-token s ({t2}t) | peak MB | perplexity | "
            f"agreement | roofline |" + (" task MAP@3 (top 3 unlike fp32) |" if with_task else ""))
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def ms(v):
        return f"{v[0]:.1f} ({v[1]:.1f}-{v[2]:.1f})"

    for r in rows:
        ratio = r["decode_ratio"]
        t = r.get("task")
        task = (f" {t['map3']:.4f} ({t['changed']}) |" if t else " - |") if with_task else ""
        lines.append(
            f"| {r['variant']} | {r['size_mb']:.0f} | {r['prefill_tok_s']:.0f} | {ms(r[f'decode_tok_s_{t1}t'])} | "
            f"{ms(r[f'decode_tok_s_{t2}t'])} | {ratio[0]:.2f}x ({ratio[1]:.2f}-{ratio[2]:.2f}) | "
            f"{r['wall_64_s']:.2f} | {r['peak_rss_mb'] or 0:.0f} | {r['perplexity']:.2f} ({r['perplexity_delta']:+.1%}) | "
            f"{r['agreement']:.3f} | {r.get('roofline', float('nan')):.0%} |{task}"
            if r["size_mb"] is not None else
            f"| {r['variant']} | - | {r['prefill_tok_s']:.0f} | {ms(r[f'decode_tok_s_{t1}t'])} | "
            f"{ms(r[f'decode_tok_s_{t2}t'])} | {ratio[0]:.2f}x ({ratio[1]:.2f}-{ratio[2]:.2f}) | "
            f"{r['wall_64_s']:.2f} | - | {r['perplexity']:.2f} ({r['perplexity_delta']:+.1%}) | "
            f"{r['agreement']:.3f} | - |{task}")
    return "\n".join(lines)


def pareto(points: list[tuple[float, float]]) -> list[int]:
    """Indices of the points no other point beats on both speed (higher) and perplexity (lower)."""
    return [i for i, (s, p) in enumerate(points)
            if not any((s2 >= s and p2 <= p) and (s2 > s or p2 < p) for s2, p2 in points)]


def save_chart(rows: list[dict], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    key = [k for k in rows[0] if k.startswith("decode_tok_s_")][-1]
    points = [(r[key][0], r["perplexity"]) for r in rows]
    front = pareto(points)
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for i, (r, (s, p)) in enumerate(zip(rows, points)):
        ax.plot(s, p, "o", color="tab:red" if i in front else "tab:gray")
        ax.annotate(r["variant"], (s, p), textcoords="offset points", xytext=(4, 4), fontsize=8)
    line = sorted(points[i] for i in front)
    ax.plot([s for s, _ in line], [p for _, p in line], "--", color="tab:red", label="Pareto front")
    ax.set_xlabel(f"decode tokens/s ({key.rsplit('_', 1)[-1]}, median; higher is better)")
    ax.set_ylabel("perplexity on held-out text (lower is better)")
    ax.set_title("SmolLM2-135M compression: speed vs quality (one run, this CPU)")
    ax.legend()
    fig.tight_layout()
    return save_png(fig, path)
