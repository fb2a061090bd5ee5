"""One run, one table: size on disk, latency per input at batch 1 (p50/p95, 1 and 4 threads) and
held-out score, for every variant of a shipped model (for a classifier: the PyTorch fp32
student, ONNX fp32 and ONNX int8; see edge/classifier/runners.py).

    rows = compare_variants({"pytorch fp32": torch_runner, "onnx int8": int8_runner},
                            latency_inputs, score_inputs, score_fn=distill_set.score)
    print(format_table(rows)); save_table(rows, Path("build/edge/compare"))   # .csv and .png
    timed = fill_to_length(essays, Path("student/tokenizer.json"), 128, 40)   # Kaggle-length inputs

A runner has `size_bytes`, `set_threads(n)` and `proba(inputs) -> (n, ...)` array; score_fn
gets the outputs of every score input, concatenated. Latency covers tokenization and the
forward pass of one input, after warm-up runs. Threads above the machine's cores are measured
as asked and flagged in the table ("oversubscribed").

A port that ships its host's plan with no model (edge/writer) has one host row and one device
row instead (PortRow: score, outputs identical to the host's, size, latency, peak memory):

    print(format_port_table([PortRow("host", 4.59, "120/120"), PortRow("device", 4.59, "120/120", 0.2, 0.05)]))
"""
from __future__ import annotations

import csv
import io
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm.auto import tqdm

from common.atomic import atomic_write_text
from common.charts import save_png

MB = 1024 * 1024


@dataclass
class VariantRow:
    """One line of the table; latencies in milliseconds per text."""

    variant: str
    size_mb: float
    p50_1t_ms: float
    p95_1t_ms: float
    p50_4t_ms: float
    p95_4t_ms: float
    score: float
    speedup_1t: float = 1.0  # p50 of the first row / p50 of this row, 1 thread
    accuracy: float | None = None  # share of held-out inputs whose top class is the label


def percentiles(times_s: list[float]) -> tuple[float, float]:
    ms = np.asarray(times_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def time_per_text(predict_one: Callable[[object], object], inputs: list, warmup: int = 3) -> list[float]:
    for item in inputs[:warmup]:
        predict_one(item)
    times = []
    for item in inputs:
        start = time.perf_counter()
        predict_one(item)
        times.append(time.perf_counter() - start)
    return times


def fill_to_length(texts: list[str], tokenizer_file: Path, max_length: int, count: int) -> list[str]:
    """`count` texts, each consecutive `texts` joined by a space until it reaches `max_length`
    tokens untruncated (cycling through `texts`): the length at which a real essay runs.

        fill_to_length(["One essay.", "Another."], Path("tokenizer.json"), 8, 2)
    """
    from tokenizers import Tokenizer

    if not texts:
        raise ValueError("fill_to_length needs at least one text")
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    filled, parts, index = [], [], 0
    while len(filled) < count:
        parts.append(texts[index % len(texts)])
        index += 1
        if len(tokenizer.encode(" ".join(parts)).ids) >= max_length:
            filled.append(" ".join(parts))
            parts = []
    return filled


def compare_variants(runners: dict[str, object], latency_inputs: list, score_inputs: list,
                     score_fn: Callable[[np.ndarray], float], threads: tuple[int, int] = (1, 4),
                     batch_size: int = 16, accuracy_fn: Callable[[np.ndarray], float] | None = None,
                     rounds: int = 1) -> list[VariantRow]:
    """Measure every runner on the same inputs; the first runner is the speed baseline.
    rounds: timing passes, every runner timed once in each (interleaved, so a slow moment of a
    noisy machine hits them all); a latency is the median of the rounds' p50 (p95).
    accuracy_fn: the score inputs' accuracy from the same outputs (None: no accuracy column)."""
    passes: dict[str, dict[int, list]] = {name: {n: [] for n in threads} for name in runners}
    with tqdm(total=len(runners) * (rounds + 1), desc="compare", unit="step") as bar:
        for _ in range(rounds):
            for name, runner in runners.items():
                for n in threads:
                    runner.set_threads(n)
                    passes[name][n].append(percentiles(time_per_text(lambda x: runner.proba([x]), latency_inputs)))
                bar.update()
        rows = []
        for name, runner in runners.items():
            lat = {n: tuple(float(np.median(column)) for column in zip(*passes[name][n])) for n in threads}
            runner.set_threads(2)
            step = getattr(runner, "score_batch_size", None)        # None: batch_size; 0: all in one call
            step = batch_size if step is None else step or len(score_inputs)
            probs = np.concatenate([runner.proba(score_inputs[i:i + step])
                                    for i in range(0, len(score_inputs), step)])
            rows.append(VariantRow(name, runner.size_bytes / MB, *lat[threads[0]], *lat[threads[1]], score_fn(probs),
                                   accuracy=accuracy_fn(probs) if accuracy_fn else None))
            bar.update()
    for row in rows:
        row.speedup_1t = rows[0].p50_1t_ms / row.p50_1t_ms
    return rows


def format_table(rows: list[VariantRow], metric: str = "score", cores: int | None = None,
                 note: str | None = None) -> str:
    """note: the last line (None: what the latencies are, and whether 4 threads oversubscribe this machine)."""
    cores = cores or os.cpu_count() or 1
    flag = " (oversubscribed: %d cores)" % cores if cores < 4 else ""
    head = (f"{'variant':<17} {'size MB':>8} {'p50 1t':>8} {'p95 1t':>8} {'p50 4t':>8} {'p95 4t':>8} "
            f"{metric:>8} {'accuracy':>8} {'x 1t':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        acc = f"{r.accuracy:8.4f}" if r.accuracy is not None else f"{'-':>8}"
        lines.append(f"{r.variant:<17} {r.size_mb:8.1f} {r.p50_1t_ms:8.2f} {r.p95_1t_ms:8.2f} {r.p50_4t_ms:8.2f} "
                     f"{r.p95_4t_ms:8.2f} {r.score:8.4f} {acc} {r.speedup_1t:6.2f}")
    lines.append(note or f"latency: ms per input at batch 1 (tokenize + forward); 4t = 4 threads{flag}")
    return "\n".join(lines)


def save_table(rows: list[VariantRow], stem: Path, metric: str = "score") -> tuple[Path, Path]:
    """stem.csv and stem.png (size, latency and score side by side), both written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    csv_path = save_csv(rows, stem)
    names = [r.variant for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    axes[0].bar(names, [r.size_mb for r in rows], color="#4477aa")
    axes[0].set_title("size on disk (MB)")
    x = np.arange(len(rows))
    axes[1].bar(x - 0.2, [r.p50_1t_ms for r in rows], 0.4, label="1 thread")
    axes[1].bar(x + 0.2, [r.p50_4t_ms for r in rows], 0.4, label="4 threads")
    axes[1].set_xticks(x, names)
    axes[1].set_title("p50 latency per text, batch 1 (ms)")
    axes[1].legend()
    axes[2].bar(names, [r.score for r in rows], color="#228833")
    scores = [r.score for r in rows]
    axes[2].set_ylim(max(0.0, min(scores) - 0.05), max(1.0, max(scores) + 0.05))  # log loss may pass 1
    axes[2].set_title(f"held-out {metric}")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    return csv_path, save_png(fig, f"{stem}.png", dpi=110)


@dataclass
class PortRow:
    """One line of a port's table (edge/writer): the host's solution or the device program.
    Latencies in ms per input at batch 1 and peak memory in MB are the device program's (None:
    not measured, e.g. the host's search); same_outputs: outputs identical to the host's."""

    variant: str
    score: float
    same_outputs: str
    size_mb: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    peak_mb: float | None = None


def format_port_table(rows: list[PortRow], metric: str = "score") -> str:
    cell = lambda v, fmt: f"{'-':>8}" if v is None else format(v, fmt)  # noqa: E731
    head = f"{'variant':<16} {metric:>12} {'same outputs':>13} {'size MB':>8} {'p50 ms':>8} {'p95 ms':>8} {'peak MB':>8}"
    lines = [head, "-" * len(head)]
    lines += [f"{r.variant:<16} {r.score:12.4f} {r.same_outputs:>13} {cell(r.size_mb, '8.3f')} "
              f"{cell(r.p50_ms, '8.3f')} {cell(r.p95_ms, '8.3f')} {cell(r.peak_mb, '8.1f')}" for r in rows]
    lines.append("latency: ms per input at batch 1, one process, 1 thread; peak: that process's peak resident memory")
    return "\n".join(lines)


def save_csv(rows: list, stem: Path) -> Path:
    """stem.csv: one line per row (VariantRow or PortRow), written atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(asdict(rows[0])))
    writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    return atomic_write_text(Path(f"{stem}.csv"), buffer.getvalue())
