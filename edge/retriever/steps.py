"""The answerer's part of the `make edge` port flow (edge/pipeline.py run_port): a retriever plus a
causal LM option scorer (science-exam), run on the device as the host's pipeline is.

    steps = AnswererSteps(port_set)                     # a PortSet of kind "science_answerer"
    info = steps.bundle(out / "bundle", provenance)     # the files (prepare), the runtime, smoke.jsonl
    outputs = steps.device_outputs(info.path)           # the device program's top 3 letters, held-out rows
    timing = steps.bench(info.path, out)                # {"p50_ms", "p95_ms", "peak_rss_mb", ...}

prepare() makes the files from the spec's `sources` (a searched HybridRetriever, its queries, the
solved-question memory, the encoder's and LM's names): the encoder as int8 ONNX
(edge/retriever/encoder.py), the compact index (edge/retriever/index.py), and the LM variant the
plan names, exported by edge/generator (cached), its graph given a `logits_from` input
(edge/generator/logits_from.py) so the question's prefill computes the LM head for its last
token only. Unlike a writer's plan, the device's numbers
are not the host's bit for bit (an int8 encoder, an int4 LM), so nothing is required to match
the host at bundle time: the comparison table reports the gap. smoke.jsonl holds SMOKE_QUESTIONS questions with the scores this bundle's runtime gave
on the host; the device's self-test must retrieve the same context and give the same letters,
scores within SMOKE_TOLERANCE. device_outputs also counts the held-out questions whose context
is the host's, with the int8 encoder and with the fp32 one (what the int8 encoder alone changes).
"""
from __future__ import annotations

import json
from pathlib import Path

from common.port_set import PortSet
from edge.bundle import (DETECT_FILES, DEVICE_REQUIREMENTS, LM_FILES, RUNTIME_DIR, BundleConfig, BundleInfo,
                         assemble_bundle, bench_bundle)
from edge.generator.export import build_named
from edge.generator.logits_from import add_logits_from
from edge.generator.variants import MODEL_FILES, check_lm_variant
from edge.retriever.encoder import export_encoder
from edge.retriever.index import CompactIndex
from edge.runtime.choices import as_question
from edge.runtime.classifier import encoder_session
from edge.runtime.detect import open_bundle
from edge.runtime.retrieval import Encoder
from edge.runtime.science import Answerer

RUNTIME_FILES = (*DETECT_FILES, "science.py", "choices.py", "retrieval.py", *LM_FILES)
SMOKE_QUESTIONS = 1          # under qemu the LM is slow: one question keeps the deploy's smoke test short
# nats of an option's mean log-likelihood. Arm's int4/int8 kernels (accuracy level 4) round the
# activations differently: under qemu (Cortex-A76) the first sample question's options moved by
# up to 0.22 nats from x86's, with the same context and the same letters
SMOKE_TOLERANCE = 0.5
BUNDLE_CAPS = {"max_file_mb": 400.0, "max_total_mb": 450.0}


class AnswererSteps:
    kind = "science_answerer"

    @property
    def bundle_check(self) -> str:
        """The line `make edge` prints after the first bundle: what was checked, and which scorer shipped."""
        said = "smoke questions answered by the bundle's runtime; no exact match with the host asked"
        if "choice_shipped" in self.details:
            said += (f"; the multiple-choice model ships as {self.details['choice_shipped']} (int8 kept fp32's best "
                     f"option for {self.details['choice_int8_best_option_agreement']:.0%} of the questions it was checked on)")
        return said

    def __init__(self, ps: PortSet, latency_inputs: int = 5):
        self.ps, self.latency_inputs = ps, latency_inputs
        self.details: dict = {}
        self.files: dict[str, Path] = {}
        self.index: CompactIndex | None = None
        self.encoder_fp32: Path | None = None

    def describe(self) -> str:
        s, src = self.ps.plan["settings"], self.ps.sources
        choice = (f"; the fine-tuned multiple-choice {src['encoder']} as ONNX (int8 if it keeps the best option, "
                  f"else fp32), rank-averaged with the LM (LM weight {s['choice']['lm_weight']})" if s.get("choice") else "")
        return (f"edge/runtime/science.py: {src['encoder']} as int8 ONNX, a compact index of the passages the "
                f"host's search can return, {src['lm']} {s['lm_variant']} (edge/generator) scoring the options "
                f"after the shared prefix, its KV cache reused{choice}")

    def prepare(self, work: Path) -> dict[str, Path]:
        """The bundle's model and index files (once): the int8 encoder, the compact index, the LM."""
        if self.files:
            return self.files
        src, settings = self.ps.sources, self.ps.plan["settings"]
        check_lm_variant(settings["lm_variant"])
        self.index = CompactIndex.from_retriever(src["retriever"], src["queries"], src["examples"],
                                                 src["memory_vectors"])
        index_dir = Path(work) / "index"
        index_dir.mkdir(parents=True, exist_ok=True)
        names = self.index.write(index_dir)
        encoder, parity, cosine = export_encoder(src["encoder"], Path(work), src["queries"][-16:],
                                                 int(settings["max_seq_length"]))
        lm_dir = build_named(settings["lm_variant"], src["lm"], src.get("calibration_texts"))
        lm_graph = Path(work) / "lm" / "model.onnx"       # beside the bundle's copy of model.onnx.data
        add_logits_from(lm_dir / "model.onnx", lm_graph)
        self.details.update(index=self.index.summary(), encoder_parity_max_abs_diff=parity.max_abs_diff,
                            encoder_int8_min_cosine=round(cosine, 5), lm_folder=str(lm_dir))
        self.encoder_fp32 = encoder["fp32"]
        self.files = {"encoder.onnx": encoder["int8"], "encoder_tokenizer.json": encoder["tokenizer"],
                      **{n: index_dir / n for n in names},
                      **{p.name: p for p in sorted(lm_dir.iterdir()) if p.name in MODEL_FILES},
                      "model.onnx": lm_graph}
        if settings.get("choice"):
            from edge.retriever.choice import export_choice_scorer

            choice, parity, agreement = export_choice_scorer(src["choice_model"], src["choice_tokenizer"],
                                                             Path(work) / "choice", src["choice_pairs"],
                                                             int(settings["choice"]["max_length"]))
            self.details.update(choice_parity_max_abs_diff=parity.max_abs_diff, choice_int8_best_option_agreement=agreement,
                                choice_shipped="int8" if choice["ship"] == choice["int8"] else "fp32")
            self.files.update({"choice.onnx": choice["ship"], "choice_tokenizer.json": choice["tokenizer"]})
        return self.files

    def bundle(self, out_dir: Path, provenance: dict) -> BundleInfo:
        caps = BundleConfig(provenance=provenance, smoke_tolerance=SMOKE_TOLERANCE, **BUNDLE_CAPS)
        copies = {**self.prepare(Path(out_dir).parent), **{name: RUNTIME_DIR / name for name in RUNTIME_FILES}}
        settings = {"kind": self.kind, "format": 1, **self.ps.plan, "index": self.index.summary(),
                    "input_columns": list(self.ps.input_columns),
                    "output_column": self.ps.output_column, "smoke_tolerance": SMOKE_TOLERANCE,
                    "bundle_caps": BUNDLE_CAPS, "requirements": DEVICE_REQUIREMENTS, "provenance": provenance}

        def write_smoke(folder: Path) -> None:
            questions = self.ps.inputs[:SMOKE_QUESTIONS]
            answers = open_bundle(folder, threads=1).write(questions)
            rows = [{"question": list(as_question(q)), "prediction": a["prediction"], "scores": a["scores"],
                     "context": a["context"], **({"choice_scores": a["choice_scores"]} if "choice_scores" in a else {})}
                    for q, a in zip(questions, answers)]
            (folder / "smoke.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

        return assemble_bundle(out_dir, copies, {"config.json": json.dumps(settings, indent=2) + "\n",
                                                 **self.ps.assets}, caps, finish=write_smoke)

    def device_outputs(self, folder: Path) -> list[str]:
        """The bundle's answers to the held-out questions (in this process, 1 thread), and in
        `details` how often its retrieved context is the host's."""
        answers = open_bundle(folder, threads=1).write(self.ps.holdout_inputs)
        host = self.ps.sources.get("holdout_contexts")
        if host:
            self.details["same_context"] = sum(a["context"] == h for a, h in zip(answers, host))
            # the same retrieval with the fp32 encoder: what the int8 encoder alone changes
            fp32 = Answerer(folder, threads=1, lm=object())
            fp32.encoder = Encoder(encoder_session(self.encoder_fp32), Path(folder) / "encoder_tokenizer.json",
                                   int(self.ps.plan["settings"]["max_seq_length"]))
            self.details["same_context_fp32_encoder"] = sum(
                fp32.context(*_split(q)) == h for q, h in zip(self.ps.holdout_inputs, host))
        return [a["prediction"] for a in answers]

    def bench(self, folder: Path, out: Path, repeats: int = 1) -> dict:
        """`detect.py --bench` in the bundle (science.py's own), a fresh process on this machine, over
        the first `latency_inputs` held-out questions at batch 1: p50_ms, p95_ms, peak_rss_mb."""
        path = Path(out) / "latency_inputs.jsonl"
        path.write_text("".join(q + "\n" for q in self.ps.holdout_inputs[: self.latency_inputs]), encoding="utf-8")
        return {**bench_bundle(folder, path, repeats), **self.details}


def _split(question: str) -> tuple[str, list[str]]:
    prompt, *options = as_question(question)
    return prompt, options
