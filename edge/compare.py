"""One run, one table: size on disk, latency per text at batch 1 (p50/p95, 1 and 4 threads) and
held-out score, for the PyTorch fp32 student, ONNX fp32 and ONNX int8.

    rows = compare_variants(student_dir, {"onnx fp32": fp32, "onnx int8": int8}, texts, score_fn)
    print(format_table(rows)); save_table(rows, Path("build/edge/compare"))   # .csv and .png

Latency covers tokenization and the forward pass of one text, after warm-up runs. Threads above
the machine's cores are measured as asked and flagged in the table ("oversubscribed").
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

from common.atomic import atomic_path, atomic_write_text

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


def percentiles(times_s: list[float]) -> tuple[float, float]:
    ms = np.asarray(times_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def time_per_text(predict_one: Callable[[str], object], texts: list[str], warmup: int = 3) -> list[float]:
    for text in texts[:warmup]:
        predict_one(text)
    times = []
    for text in texts:
        start = time.perf_counter()
        predict_one(text)
        times.append(time.perf_counter() - start)
    return times


class TorchRunner:
    """The PyTorch fp32 student; `threads` sets torch's intra-op threads."""

    def __init__(self, student_dir: Path, max_length: int):
        from edge.distill import load_student

        self.model, self.tokenizer = load_student(student_dir)
        self.max_length = max_length
        self.size_bytes = sum(p.stat().st_size for p in Path(student_dir).glob("*.safetensors"))

    def set_threads(self, threads: int) -> None:
        import torch

        torch.set_num_threads(threads)

    def proba(self, texts: list[str]) -> np.ndarray:
        import torch

        enc = self.tokenizer(texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="pt")
        with torch.inference_mode():
            return torch.softmax(self.model(**enc).logits, dim=-1).numpy()


class OnnxRunner:
    """An ONNX model under onnxruntime; a new session per thread count."""

    def __init__(self, path: Path, tokenizer, max_length: int):
        from edge.export_onnx import onnx_session

        self.path, self.tokenizer, self.max_length = Path(path), tokenizer, max_length
        self.size_bytes = self.path.stat().st_size
        self.session = onnx_session(self.path, threads=2)

    def set_threads(self, threads: int) -> None:
        from edge.export_onnx import onnx_session

        self.session = onnx_session(self.path, threads=threads)

    def proba(self, texts: list[str]) -> np.ndarray:
        from edge.export_onnx import _softmax, onnx_logits

        return _softmax(onnx_logits(self.session, self.tokenizer, texts, self.max_length))


def compare_variants(runners: dict[str, object], latency_texts: list[str], score_texts: list[str],
                     score_fn: Callable[[np.ndarray], float], positive_index: int = 1,
                     threads: tuple[int, int] = (1, 4), batch_size: int = 16) -> list[VariantRow]:
    """Measure every runner in turn on the same texts; the first runner is the speed baseline."""
    rows = []
    for name, runner in tqdm(runners.items(), desc="compare", unit="variant"):
        lat = {}
        for n in threads:
            runner.set_threads(n)
            lat[n] = percentiles(time_per_text(lambda t: runner.proba([t]), latency_texts))
        runner.set_threads(2)
        probs = np.concatenate([runner.proba(score_texts[i:i + batch_size])[:, positive_index]
                                for i in range(0, len(score_texts), batch_size)])
        rows.append(VariantRow(name, runner.size_bytes / MB, *lat[threads[0]], *lat[threads[1]], score_fn(probs)))
    for row in rows:
        row.speedup_1t = rows[0].p50_1t_ms / row.p50_1t_ms
    return rows


def format_table(rows: list[VariantRow], metric: str = "score", cores: int | None = None) -> str:
    cores = cores or os.cpu_count() or 1
    flag = " (oversubscribed: %d cores)" % cores if cores < 4 else ""
    head = (f"{'variant':<14} {'size MB':>8} {'p50 1t':>8} {'p95 1t':>8} {'p50 4t':>8} {'p95 4t':>8} "
            f"{metric:>8} {'x 1t':>6}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r.variant:<14} {r.size_mb:8.1f} {r.p50_1t_ms:8.2f} {r.p95_1t_ms:8.2f} {r.p50_4t_ms:8.2f} "
                     f"{r.p95_4t_ms:8.2f} {r.score:8.4f} {r.speedup_1t:6.2f}")
    lines.append(f"latency: ms per text at batch 1 (tokenize + forward); 4t = 4 threads{flag}")
    return "\n".join(lines)


def save_table(rows: list[VariantRow], stem: Path, metric: str = "score") -> tuple[Path, Path]:
    """stem.csv and stem.png (size, latency and score side by side), both written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(asdict(rows[0])))
    writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    csv_path = atomic_write_text(Path(f"{stem}.csv"), buffer.getvalue())
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
    axes[2].set_ylim(max(0.0, min(r.score for r in rows) - 0.05), 1.0)
    axes[2].set_title(f"held-out {metric}")
    for ax in axes:
        ax.tick_params(axis="x", labelsize=8)
    fig.tight_layout()
    with atomic_path(Path(f"{stem}.png"), suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return csv_path, Path(f"{stem}.png")
