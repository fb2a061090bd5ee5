"""The quantized candidates of a student, and the rule that picks the one that ships.

    quantized = quantize_candidates(steps, files["fp32"], out, log)   # {"onnx int8": Path, ...}
    rows = compare_variants(steps.runners(files["fp32"], quantized), ...)
    choice = pick_shipped(rows, quantized, ds, max_drop=0.01, teacher_gap=0.02)
    choice.label, choice.row, choice.gap_met

A kind of student names its candidates with `quantizers()` ({label: Quantizer}); without it a
student gets dynamic int8. The rule: drop every candidate that lost more than `max_drop` of the
held-out score against ONNX fp32; of the rest, keep those within `teacher_gap` of the teacher
when any is; ship the fastest of them (p50 latency at batch 1, 1 thread), except that candidates
within SPEED_TIE of the fastest's p50 count as tied, and the smallest file of the tied ships (the
device pays for size in memory and copy time, and a few percent of p50 is this machine's noise:
on a 2-core EPYC dynamic and static int8 swapped places between runs a minute apart). None left:
the run stops.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

from common.errors import UserError
from edge.compare import VariantRow
from edge.quantize import quantize_int8


SPEED_TIE = 0.10   # p50s within 10% of the fastest's are a tie, broken by size


@dataclass(frozen=True)
class Quantizer:
    """what: one line for the log. fn(src, dst) -> dst writes the quantized ONNX file."""

    what: str
    fn: Callable[[Path, Path], Path]


# a scale per weight column: the same kernels as one scale per matrix, and logits 17x closer to
# fp32's on the detector's student (`make bench BENCH=encoder_fusions`)
DEFAULT_QUANTIZERS = {"onnx int8": Quantizer("dynamic int8 (QInt8 weights, a scale per output column)",
                                             partial(quantize_int8, per_channel=True))}


@dataclass
class Choice:
    label: str
    row: VariantRow
    drop: float
    gap: float
    gap_met: bool
    why: str


def file_name(label: str) -> str:
    """'onnx int8' -> student.int8.onnx; 'onnx int4-q41' -> student.int4-q41.onnx."""
    return "student." + re.sub(r"[^A-Za-z0-9.-]+", "-", label.removeprefix("onnx ")).strip("-") + ".onnx"


def quantize_candidates(steps, fp32: Path, out: Path, log=print) -> dict[str, Path]:
    """Every candidate of `steps` quantized from `fp32` into `out` ({label: file})."""
    quantizers = steps.quantizers()
    files = {}
    for label, quantizer in quantizers.items():
        log(f"      {label}: {quantizer.what}")
        files[label] = quantizer.fn(fp32, out / file_name(label))
    return files


def pick_shipped(rows: list[VariantRow], candidates: dict, ds, max_drop: float, teacher_gap: float) -> Choice:
    """The candidate that ships (see the module's rule); a UserError when every one lost too much."""
    by_name = {r.variant: r for r in rows}
    fp32 = by_name["onnx fp32"].score
    choices = []
    for label in candidates:
        row = by_name[label]
        gap = abs(ds.teacher_score - row.score)
        choices.append(Choice(label, row, ds.shortfall(fp32, row.score), gap, gap <= teacher_gap, ""))
    kept = [c for c in choices if c.drop <= max_drop]
    if not kept:
        least = min(choices, key=lambda c: c.drop)
        raise UserError(f"{least.label} lost {least.drop:.4f} {ds.metric} against ONNX fp32 "
                        f"(limit {max_drop}), the least of {len(choices)} quantized candidates; not shipping any")
    met = [c for c in kept if c.gap_met]
    pool = met or kept
    fastest = min(pool, key=lambda c: c.row.p50_1t_ms)
    tied = [c for c in pool if c.row.p50_1t_ms <= fastest.row.p50_1t_ms * (1 + SPEED_TIE)]
    best = min(tied, key=lambda c: (c.row.size_mb, c.row.p50_1t_ms))
    dropped = [c.label for c in choices if c.drop > max_drop]
    best.why = ((f"fastest at 1 thread of {len(pool)} candidate(s)" if best is fastest else
                 f"smallest of {len(tied)} within {SPEED_TIE:.0%} of the fastest p50 at 1 thread "
                 f"({fastest.label}) of {len(pool)} candidate(s)")
                + (" within the teacher gap" if met else " (none within the teacher gap)")
                + (f"; lost too much: {', '.join(dropped)}" if dropped else ""))
    return best
