"""The writer's part of the `make edge` port flow (edge/pipeline.py run_port): the bundle, the
device program's outputs on the held-out rows, and its latency and memory.

    steps = WriterSteps(port_set)                      # a common.port_set.PortSet
    info = steps.bundle(out / "bundle", provenance)    # refused unless it writes the host's outputs exactly
    outputs = steps.device_outputs(info.path)          # held-out rows, each written by its plan
    timing = steps.bench(info.path, out)               # {"p50_ms", "p95_ms", "peak_rss_mb", ...}

The bundle: config.json (kind, plan, input and output columns, provenance), the plan's asset
files (a word list), detect.py (the command line every bundle has) and the kind's writer
(edge/runtime/detect.py KINDS), smoke.jsonl (the host's inputs with the host's outputs, which
the device's self-test must write byte for byte), requirements.txt and MANIFEST.sha256. No
model: the bundle is kilobytes.
"""
from __future__ import annotations

import json
from pathlib import Path

from common.errors import UserError
from common.port_set import PortSet
from edge.bundle import DETECT_FILES, DEVICE_REQUIREMENTS, RUNTIME_DIR, BundleConfig, BundleInfo, assemble_bundle, bench_bundle
from edge.runtime.detect import KINDS, open_bundle

SMOKE_MAX = 500          # host inputs the device's self-test rewrites (all of a Kaggle test set so far)
BUNDLE_CAPS = {"max_file_mb": 20.0, "max_total_mb": 20.0}


def _record(item, columns: tuple[str, ...]) -> dict:
    return dict(zip(columns, (item,) if isinstance(item, str) else item))


def _smoke_row(item, output: str) -> dict:
    row = {"text": item} if isinstance(item, str) else {"text": item[0], "text_pair": item[1]}
    return row | {"output": output}


class WriterSteps:
    def __init__(self, ps: PortSet, latency_inputs: int = 40):
        self.ps, self.kind, self.latency_inputs = ps, ps.kind, latency_inputs
        self.runtime_file = KINDS[ps.kind][0]

    def describe(self) -> str:
        assets = f" and {', '.join(self.ps.assets)}" if self.ps.assets else ""
        return (f"the host's plan{assets}, run by edge/runtime/{self.runtime_file}; no model "
                f"({len(self.ps.inputs)} host output{'s' if len(self.ps.inputs) != 1 else ''} to reproduce)")

    def settings(self, provenance: dict) -> dict:
        return {"kind": self.kind, "format": 1, "plan": self.ps.plan, "input_columns": list(self.ps.input_columns),
                "pairs": self.ps.pairs, "output_column": self.ps.output_column, "smoke_tolerance": 0,
                "bundle_caps": BUNDLE_CAPS, "requirements": DEVICE_REQUIREMENTS, "provenance": provenance}

    def bundle(self, out_dir: Path, provenance: dict) -> BundleInfo:
        """Assemble; the runtime in the new folder must write every host output exactly, else a
        UserError and no bundle is swapped in."""
        copies = {name: RUNTIME_DIR / name for name in (*DETECT_FILES, self.runtime_file)}
        texts = {"config.json": json.dumps(self.settings(provenance), indent=2) + "\n", **self.ps.assets}

        def check_and_write_smoke(folder: Path) -> None:
            written = self.write(folder, self.ps.plan, self.ps.inputs)
            wrong = [i for i, (host, here) in enumerate(zip(self.ps.outputs, written)) if host != here]
            if wrong:
                i = wrong[0]
                raise UserError(f"the device runtime does not reproduce the host: {len(wrong)} of {len(written)} "
                                f"outputs differ; first, input {i}: host {self.ps.outputs[i][:120]!r}, "
                                f"device {written[i][:120]!r}")
            rows = [_smoke_row(x, y) for x, y in zip(self.ps.inputs[:SMOKE_MAX], self.ps.outputs)]
            (folder / "smoke.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

        return assemble_bundle(out_dir, copies, texts, BundleConfig(provenance=provenance, **BUNDLE_CAPS),
                               finish=check_and_write_smoke)

    @staticmethod
    def write(folder: Path, plan: dict, inputs: list) -> list[str]:
        """What the bundle's writer, given `plan`, writes for `inputs` (in one call, as the device would)."""
        shipped = open_bundle(folder)
        writer = type(shipped)(plan, folder)
        return [row[writer.output] for row in writer.write(list(inputs))]

    def device_outputs(self, folder: Path) -> list[str]:
        """The held-out rows, each group written by its own plan (PortSet.holdout_groups)."""
        out: list[str | None] = [None] * len(self.ps.holdout_inputs)
        for plan, rows in self.ps.holdout_groups():
            for i, text in zip(rows, self.write(folder, plan, [self.ps.holdout_inputs[i] for i in rows])):
                out[i] = text
        return out

    def bench(self, folder: Path, out: Path, repeats: int = 10) -> dict:
        """`detect.py --bench` in the bundle, in a fresh process on this machine, over the first
        `latency_inputs` held-out inputs at batch 1: p50_ms, p95_ms, peak_rss_mb."""
        path = Path(out) / "latency_inputs.jsonl"
        lines = [json.dumps(_record(x, self.ps.input_columns)) for x in self.ps.holdout_inputs[: self.latency_inputs]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return bench_bundle(folder, path, repeats)
