"""The candidate that ships, picked on the device's own numbers (`make edge DEVICE=pi@host
ARGS=--pick-on-device`) instead of the host's.

    from edge.device_pick import pick_on_device
    picked = pick_on_device(run, ds, steps, models, timed, max_drop=0.01, teacher_gap=0.02)
    picked.choice.label, picked.machine     # "onnx int8 static", "aarch64"
    print(picked.table)                      # every candidate's score and p50 on the device
    choice, info = repick_on_device(run, ds, steps, fp32, quantized, rows, host_choice, timed, 0.01, 0.02)

`make edge` times its candidates on the host, whose int8 kernels (x86 VNNI or AVX2) are not the
Pi's (Arm SDOT): static and dynamic int8 may change places there. With --pick-on-device every
candidate is copied once to the device (edge/device_compare.py: a copy of the bundle with its own
model.onnx, under <root>/compare), scored on the held-out split by the bundle's own runtime, and
timed at batch 1 (1 and 4 threads, tokenization included), interleaved over rounds; then the same rule
as on the host (edge/candidates.py pick_shipped: drop those that lost more than the gate against
ONNX fp32, prefer those within the teacher gap, ship the fastest) runs on those numbers. Only a
real device: the emulated Pi's timings are qemu's.
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from common.errors import UserError
from edge.candidates import Choice, pick_shipped
from edge.compare import VariantRow, format_table
from edge.device_compare import FP32, DeviceCompareConfig, run_device_compare

PICK_THREADS = 1     # the rule's thread count, as on the host
TIMED_THREADS = (1, 4)   # also a Pi 5's four cores, for the table


@dataclass
class DevicePick:
    choice: Choice
    machine: str
    device: str
    table: str
    rows: list[VariantRow]


def device_variant_rows(rows: list[dict], ds, threads: int = PICK_THREADS) -> list[VariantRow]:
    """edge/device_compare.py's rows (probabilities and p50 at `threads`) as the host's table rows,
    scored with the distill set's metric; the first row is ONNX fp32."""
    return [VariantRow(r["variant"], r["size_mb"], r["p50_ms"][threads][0], r["p95_ms"][threads],
                       *_at_four(r), float(ds.score(r["probs"])), speedup_1t=r["ratio"][threads][0],
                       accuracy=ds.accuracy(r["probs"])) for r in rows]


def _at_four(row: dict) -> tuple[float, float]:
    return (row["p50_ms"][4][0], row["p95_ms"][4]) if 4 in row.get("p50_ms", {}) else (float("nan"),) * 2


def format_device_table(rows: list[VariantRow], metric: str, machine: str) -> str:
    """The host table's columns, on the device's numbers."""
    return format_table(rows, metric, note=f"on the device ({machine}): ms per input at batch 1 (tokenize + "
                        "forward), median of the rounds' p50; x 1t: the median of the rounds' ratios to ONNX fp32")


def check_pick_on_device(device: str | None) -> None:
    """One line before any training when the flag cannot work."""
    if not device:
        raise UserError("--pick-on-device needs --device USER@HOST (DEVICE=... for make): "
                        "the emulated Pi's timings are qemu's and say nothing about a Pi")


def pick_on_device(run, ds, steps, models: dict[str, Path], timed: list, max_drop: float, teacher_gap: float,
                   rounds: int = 3) -> DevicePick:
    """models: {"onnx fp32": file, candidate label: file, ...}. The candidates' bundle comes from
    steps.bundle (a throwaway copy with fp32 as its model; each candidate replaces model.onnx)."""
    from edge.deploy.lifecycle import open_device

    check_pick_on_device(run.device)
    config = DeviceCompareConfig(threads=TIMED_THREADS, rounds=rounds, repeats=3)
    with tempfile.TemporaryDirectory(prefix="kllm-device-pick-") as tmp:
        bundle = steps.bundle(models[FP32], Path(tmp) / "bundle", {}).path
        with open_device(run.device, run.config.deploy_root, run.config.ssh_options, log=run.log) as (device, root):
            report = run_device_compare(device, root, bundle, models, list(ds.holdout_inputs), timed, config,
                                        log=run.log)
    if report.emulated:   # a device whose runtime says it is emulated: its timings pick nothing
        raise UserError(f"{device.name} runs its bundles emulated; --pick-on-device needs a real device")
    rows = device_variant_rows(report.rows, ds)
    choice = pick_shipped(rows, [label for label in models if label != FP32], ds, max_drop, teacher_gap)
    choice.why = f"on {device.name} ({report.machine}): {choice.why}"
    table = format_device_table(rows, ds.metric, report.machine)
    return DevicePick(choice, report.machine, device.name, table, rows)


def repick_on_device(run, ds, steps, fp32: Path, quantized: dict[str, Path], host_rows: list[VariantRow],
                     host_choice: Choice, timed: list, max_drop: float, teacher_gap: float) -> tuple[Choice, dict]:
    """`make edge`'s step: the device's choice (its drop and gap measured there, its row the
    host's, whose speed-up is against PyTorch fp32) and what the report keeps of the device."""
    run.log(f"      on the host the rule ships {host_choice.label} ({host_choice.why}); now the same rule on "
            f"{run.device}")
    picked = pick_on_device(run, ds, steps, {FP32: fp32, **quantized}, timed, max_drop, teacher_gap)
    run.log(picked.table)
    choice = picked.choice
    choice.row = next(r for r in host_rows if r.variant == choice.label)
    return choice, {"device": picked.device, "machine": picked.machine, "host_pick": host_choice.label,
                    "table": picked.table, "rows": [asdict(r) for r in picked.rows]}
