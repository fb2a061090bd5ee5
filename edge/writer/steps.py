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

A plan with writers (an essay plan whose mix deals SmolLM2's own essays) also takes the causal LM
its `lm_variant` names, exported by edge/generator (cached), and the runtime files that run it.
Its written outputs are the device export's own text, not the host's, so the bundle check asks
the exact match of the other outputs only; smoke.jsonl then holds SMOKE_WRITTEN written rows with
the mean log-probability the bundle's model gave its essay here, which the device's model must
give within LM_SMOKE_TOLERANCE nats (Arm's int4/int8 kernels round differently), after writing
an essay of its own for the topic.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from common.errors import UserError
from common.port_set import PortSet
from edge.bundle import DETECT_FILES, DEVICE_REQUIREMENTS, RUNTIME_DIR, BundleConfig, BundleInfo, assemble_bundle, bench_bundle
from edge.generator.export import build_named
from edge.generator.variants import CHAT_FILES, check_lm_variant
from edge.runtime.detect import KINDS, open_bundle

SMOKE_MAX = 500          # host inputs the device's self-test rewrites (all of a Kaggle test set so far)
BUNDLE_CAPS = {"max_file_mb": 20.0, "max_total_mb": 20.0}
LM_BUNDLE_CAPS = {"max_file_mb": 400.0, "max_total_mb": 450.0}   # the int8 SmolLM2 is 267 MB
LM_RUNTIME_FILES = ("causal_lm.py", "lm_sampling.py")
SMOKE_WRITTEN = 1        # written rows in the smoke test: one essay under qemu takes about a minute
LM_SMOKE_TOLERANCE = 0.5  # nats of an essay's mean log-probability, as the answerer's option scores
WRITTEN_LATENCY_INPUTS = 3


def _record(item, columns: tuple[str, ...]) -> dict:
    return dict(zip(columns, (item,) if isinstance(item, str) else item))


def _smoke_row(item, output: str) -> dict:
    row = {"text": item} if isinstance(item, str) else {"text": item[0], "text_pair": item[1]}
    return row | {"output": output}


class WriterSteps:
    def __init__(self, ps: PortSet, latency_inputs: int = 40):
        self.ps, self.kind, self.latency_inputs = ps, ps.kind, latency_inputs
        self.runtime_file = KINDS[ps.kind][0]
        self.writers = sorted(ps.plan.get("writers") or {})
        self._written: dict[str, list[dict]] = {}    # what the runtime wrote, by plan and inputs (LM essays take seconds)
        self.column = ps.output_column                # the writer's output key, set when it first writes
        if self.writers:
            check_lm_variant(str(ps.plan.get("lm_variant")))
            models = {str(s.get("model")) for s in ps.plan["writers"].values()}
            if len(models) != 1:
                raise UserError(f"port set: a bundle carries one causal LM, the writers name {sorted(models)}")
            self.model = models.pop()

    @property
    def bundle_check(self) -> str:
        """The line `make edge` prints after the first bundle: what was checked."""
        n = len(self.ps.inputs)
        if not self.writers:
            return f"the runtime writes all {n} host outputs byte for byte"
        return (f"the runtime writes the host's {n - self.host_written} template outputs byte for byte; the "
                f"{self.host_written} {'/'.join(self.writers)} outputs are its own {self.ps.plan['lm_variant']} "
                f"model's text, scored below")

    @property
    def host_written(self) -> int:
        return sum(a in self.writers for a in self.ps.plan.get("attack_per_topic", []))

    def describe(self) -> str:
        assets = f" and {', '.join(self.ps.assets)}" if self.ps.assets else ""
        model = (f"; {self.model} {self.ps.plan['lm_variant']} (edge/generator) writes the {', '.join(self.writers)} "
                 f"essays" if self.writers else "; no model")
        return (f"the host's plan{assets}, run by edge/runtime/{self.runtime_file}{model} "
                f"({len(self.ps.inputs)} host output{'s' if len(self.ps.inputs) != 1 else ''} to reproduce)")

    def settings(self, provenance: dict) -> dict:
        return {"kind": self.kind, "format": 1, "plan": self.ps.plan, "input_columns": list(self.ps.input_columns),
                "pairs": self.ps.pairs, "output_column": self.ps.output_column,
                "smoke_tolerance": LM_SMOKE_TOLERANCE if self.writers else 0, "bundle_caps": self.caps,
                "requirements": DEVICE_REQUIREMENTS, "provenance": provenance}

    @property
    def caps(self) -> dict:
        return LM_BUNDLE_CAPS if self.writers else BUNDLE_CAPS

    def model_files(self) -> dict[str, Path]:
        """The LM's files (exported once, then cached) and the runtime files that run it; none without writers."""
        if not self.writers:
            return {}
        folder = build_named(self.ps.plan["lm_variant"], self.model)
        files = {name: folder / name for name in CHAT_FILES if (folder / name).is_file()}
        return {**files, **{name: RUNTIME_DIR / name for name in LM_RUNTIME_FILES}}

    def bundle(self, out_dir: Path, provenance: dict) -> BundleInfo:
        """Assemble; the runtime in the new folder must write every host output exactly (a plan with
        writers: every template output), else a UserError and no bundle is swapped in."""
        copies = {**{name: RUNTIME_DIR / name for name in (*DETECT_FILES, self.runtime_file)}, **self.model_files()}
        texts = {"config.json": json.dumps(self.settings(provenance), indent=2) + "\n", **self.ps.assets}

        def check_and_write_smoke(folder: Path) -> None:
            rows = self.write_rows(folder, self.ps.plan, self.ps.inputs)
            column = self.column
            wrong = [i for i, (host, row) in enumerate(zip(self.ps.outputs, rows))
                     if host != row[column] and row.get("attack") not in self.writers]
            if wrong:
                i = wrong[0]
                raise UserError(f"the device runtime does not reproduce the host: {len(wrong)} of {len(rows)} "
                                f"outputs differ; first, input {i}: host {self.ps.outputs[i][:120]!r}, "
                                f"device {rows[i][column][:120]!r}")
            smoke = self.smoke_rows(folder, rows)
            (folder / "smoke.jsonl").write_text("".join(json.dumps(r) + "\n" for r in smoke), encoding="utf-8")

        return assemble_bundle(out_dir, copies, texts, BundleConfig(provenance=provenance, **self.caps),
                               finish=check_and_write_smoke)

    def smoke_rows(self, folder: Path, rows: list[dict]) -> list[dict]:
        """The host's inputs with the host's outputs; with writers, the template rows (with their
        attack) and SMOKE_WRITTEN written ones, with this runtime's essay and its mean log-probability."""
        pairs = list(zip(self.ps.inputs, self.ps.outputs, rows))
        if not self.writers:
            return [_smoke_row(x, y) for x, y, _ in pairs[:SMOKE_MAX]]
        written = [(x, row) for x, _, row in pairs if row["attack"] in self.writers][:SMOKE_WRITTEN]
        smoke = [_smoke_row(x, host) | {"attack": row["attack"]}
                 for x, host, row in pairs if row["attack"] not in self.writers][: SMOKE_MAX - len(written)]
        writer = open_bundle(folder)
        for x, row in written:
            logprob = writer.writers[row["attack"]].mean_logprob(x, row[self.column])
            smoke.append(_smoke_row(x, row[self.column]) | {"attack": row["attack"], "logprob": logprob})
        return smoke

    def write_rows(self, folder: Path, plan: dict, inputs: list) -> list[dict]:
        """What the bundle's writer, given `plan`, writes for `inputs` (in one call, as the device would),
        each row with its output and (a writer's) the attack dealt; remembered for the same plan and inputs."""
        key = json.dumps([plan, list(inputs)], sort_keys=True)
        if key not in self._written:
            shipped = open_bundle(folder)
            writer = shipped if self.writers and plan == self.ps.plan else type(shipped)(plan, folder)
            self.column = writer.output
            self._written[key] = writer.write(list(inputs))
        return self._written[key]

    def write(self, folder: Path, plan: dict, inputs: list) -> list[str]:
        """The outputs alone (write_rows)."""
        rows = self.write_rows(folder, plan, inputs)
        return [row[self.column] for row in rows]

    def device_outputs(self, folder: Path) -> list[str]:
        """The held-out rows, each group written by its own plan (PortSet.holdout_groups)."""
        out: list[str | None] = [None] * len(self.ps.holdout_inputs)
        for plan, rows in self.ps.holdout_groups():
            for i, text in zip(rows, self.write(folder, plan, [self.ps.holdout_inputs[i] for i in rows])):
                out[i] = text
        return out

    def bench(self, folder: Path, out: Path, repeats: int = 10) -> dict:
        """`detect.py --bench` in the bundle, in a fresh process on this machine, over the first
        `latency_inputs` held-out inputs at batch 1: p50_ms, p95_ms, peak_rss_mb. One input alone
        gets the mix's most used attack, a template: with writers, written_p50_ms adds the time of
        one written essay (the first WRITTEN_LATENCY_INPUTS held-out inputs, 1 thread, here)."""
        path = Path(out) / "latency_inputs.jsonl"
        lines = [json.dumps(_record(x, self.ps.input_columns)) for x in self.ps.holdout_inputs[: self.latency_inputs]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        timing = bench_bundle(folder, path, repeats if not self.writers else 1)
        if self.writers:
            writer = open_bundle(folder).writers[self.writers[0]]
            times = []
            for topic in self.ps.holdout_inputs[:WRITTEN_LATENCY_INPUTS]:
                start = time.perf_counter()
                writer.write(topic)
                times.append((time.perf_counter() - start) * 1000)
            timing["written_p50_ms"] = sorted(times)[len(times) // 2]
        return timing

