"""The lm_features student's part of the shared `make edge` flow (edge/pipeline.py), with the
same five methods as edge/classifier/steps.py:

    steps = LmFeatureSteps(distill_set, FeatureStudentConfig(model="smollm2"))
    student_dir = steps.train()                    # features through the PyTorch LM, then the head
    files, parity = steps.export(out, opset=17)    # the LM's token statistics as ONNX
    quantized = {label: q.fn(files["fp32"], path) for label, q in steps.quantizers().items()}
    runners = steps.runners(files["fp32"], quantized)   # pytorch fp32 / onnx fp32 / onnx int8 / onnx int4-q41
    info = steps.bundle(quantized["onnx int4-q41"], out / "bundle", provenance={...})

Quantized candidates (the pipeline ships the fastest that holds its gates, edge/candidates.py):
weight-only int8, and int4 re-coded on the zoo's GGUF Q4_1 grid with the LM head fp32
(int4-q41: the decoder's int4 weights equal fp32's, where int8 re-rounds them).
What ships: the LM's statistics model, its tokenizer, the head and
the runtime (edge/runtime/lm_features.py, dispatched from detect.py). The student's features are
computed by that same runtime code on the host, with the PyTorch LM's token statistics from the
shared scorer (common.llm.token_stats: same chat template, same token limits, cached on disk and
shared with the solution's style_lgbm), so the device computes what the head was fitted on; the
ONNX variants recompute every statistic. The "pytorch fp32" variant scores the held-out pairs
from the shared scorer too, and is timed on live PyTorch forwards (a call with one input).
The head caches under cache_dir("edge_students").
"""
from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from common.atomic import atomic_dir
from common.cache_keys import content_key
from common.distill_set import DistillSet
from common.models import causal_lm_path, model_fingerprint
from common.paths import cache_dir
from edge.bundle import DETECT_FILES, RUNTIME_DIR, BundleConfig, BundleInfo, assemble_bundle, check_submission_columns
from edge.classifier.export import ParityReport
from edge.candidates import Quantizer
from edge.quantize import quantize_q41, quantize_weights_int8
from edge.lm_features.export import (TokenStatsModule, check_stats_parity, export_token_stats, load_lm_for_export,
                                     torch_stats_fn)
from edge.lm_features.student import FeatureStudentConfig, fit_head, runtime_settings
from edge.runtime.lm_features import FEATURE_NAMES, LmFeatureClassifier

RUNTIME_FILES = (*DETECT_FILES, "lm_features.py")
LATENCY_INPUTS = 8       # a causal LM forward per input: seconds, not milliseconds, on a busy CPU
SMOKE_PAIRS = 3          # under qemu a forward takes minutes: 7 SmolLM2 pairs passed the deploy's 600 s
BUNDLE_CAPS = {"max_file_mb": 400.0, "max_total_mb": 400.0}


def shared_scorer_stats(model: str, pairs: list, cfg: FeatureStudentConfig) -> dict:
    """{(question, response): (response tokens, 3)} from common.llm.token_stats (cached)."""
    from common.llm.token_stats import response_token_stats

    stats = response_token_stats(model, [q for q, _ in pairs], [r for _, r in pairs], chat_template=True,
                                 max_prompt_tokens=cfg.max_prompt_tokens, max_response_tokens=cfg.max_response_tokens,
                                 progress=cfg.show_progress_bar)
    return {tuple(pair): s.astype(np.float64) for pair, s in zip(pairs, stats)}


class FeatureRunner:
    """One variant for edge.compare: the runtime classifier on an ONNX file, or on the PyTorch LM
    (module) whose held-out statistics come from `known` when a call has more than one input.
    A question's responses are balanced together, so compare scores all inputs in one call."""

    score_batch_size = 0

    def __init__(self, config: dict, tokenizer_file: Path, model_file: Path | None = None, module=None,
                 size_bytes: int = 0, known: dict | None = None):
        self.config, self.tokenizer_file, self.model_file, self.module = config, tokenizer_file, model_file, module
        self.known = known or {}
        self.size_bytes = size_bytes or Path(model_file).stat().st_size
        self.set_threads(2)

    def set_threads(self, threads: int) -> None:
        stats_fn = torch_stats_fn(self.module, threads) if self.module is not None else None
        self.clf = LmFeatureClassifier(self.config, self.tokenizer_file, self.model_file, threads, stats_fn)

    def proba(self, inputs) -> np.ndarray:
        inputs = [tuple(x) for x in inputs]
        self.clf.pair_stats_fn = (lambda q, r: self.known.get((q, r))) if len(inputs) > 1 else None
        return self.clf.predict_proba(inputs)


class LmFeatureSteps:
    kind = "lm_features"
    max_latency_inputs = LATENCY_INPUTS

    def __init__(self, ds: DistillSet, config: FeatureStudentConfig):
        self.ds, self.config = ds, config
        self.lm_dir = causal_lm_path(config.model)
        self.student_dir: Path | None = None
        self._module = None

    def describe(self) -> str:
        head = {"gbdt": f"boosted trees ({self.config.trees} per class)", "linear": "linear head"}[self.config.head]
        return (f"{head} over {len(FEATURE_NAMES)} features ({self.config.model} token statistics + text), "
                f"{len(self.ds.inputs)} (question, response) pairs with soft labels over {self.ds.n_classes} classes")

    @staticmethod
    def quantizers() -> dict:
        """Weight-only both (an LM's activations do not survive dynamic int8), fp32 compute."""
        return {"onnx int8": Quantizer("weight-only int8 (MatMulNBits, blocks of 32)", quantize_weights_int8),
                "onnx int4-q41": Quantizer("int4 on the weights' GGUF Q4_1 grid, exact offsets, LM head fp32",
                                           quantize_q41)}

    @property
    def module(self):
        if self._module is None:
            self._module = TokenStatsModule(load_lm_for_export(self.lm_dir)[0])
        return self._module

    def settings(self) -> dict:
        from transformers import AutoTokenizer

        return {"kind": "lm_features", "format": 1, "labels": list(self.ds.label_names), "pairs": True,
                "positive_index": self.ds.positive_index, "threshold": 0.5, "feature_names": list(FEATURE_NAMES),
                **runtime_settings(AutoTokenizer.from_pretrained(self.lm_dir), self.config)}

    def train(self) -> Path:
        settings = self.settings()
        key = content_key("lm_features", repr(replace(self.config, show_progress_bar=True)), json.dumps(settings),
                          model_fingerprint(self.config.model, "causal_lm"), [str(x) for x in self.ds.inputs],
                          self.ds.soft_labels.round(8).tobytes().hex())
        self.student_dir = cache_dir("edge_students") / f"lmfeat-{key[:16]}"
        if (self.student_dir / "student.json").is_file():
            return self.student_dir
        known = shared_scorer_stats(self.config.model, self.ds.inputs, self.config)
        clf = LmFeatureClassifier({**settings, "head": None}, self.lm_dir / "tokenizer.json",
                                  pair_stats_fn=lambda q, r: known[(q, r)])
        x = clf.features(self.ds.inputs)
        head = fit_head(x, self.ds.soft_labels, [q for q, _ in self.ds.inputs], self.config)
        with atomic_dir(self.student_dir) as tmp:
            (tmp / "student.json").write_text(json.dumps({**settings, "head": head, "student": asdict(self.config)}),
                                              encoding="utf-8")
        return self.student_dir

    def student_config(self) -> dict:
        return json.loads((self.student_dir / "student.json").read_text(encoding="utf-8"))

    def export(self, out: Path, opset: int) -> tuple[dict[str, Path], ParityReport]:
        raw = export_token_stats(self.module, out / "student.fp32.onnx", opset)
        clf = LmFeatureClassifier(self.student_config(), self.lm_dir / "tokenizer.json")
        sequences = [self._ids(clf, q, r) for q, r in self.ds.holdout_inputs[:8]]
        return {"export": raw, "fp32": raw}, check_stats_parity(self.module, raw, sequences)

    @staticmethod
    def _ids(clf: LmFeatureClassifier, question: str, response: str) -> list[int]:
        cfg = clf.config
        text = cfg["prompt_prefix"] + question + cfg["prompt_suffix"] + response
        return clf.tokenizer.encode(text, add_special_tokens=False).ids[: cfg["max_prompt_tokens"] + cfg["max_response_tokens"]]

    def runners(self, fp32: Path, quantized: dict[str, Path]) -> dict[str, object]:
        config, tok = self.student_config(), self.lm_dir / "tokenizer.json"
        weights = sum(p.stat().st_size for p in self.lm_dir.glob("*.safetensors"))
        known = shared_scorer_stats(self.config.model, self.ds.holdout_inputs, self.config)
        return {"pytorch fp32": FeatureRunner(config, tok, module=self.module, size_bytes=weights, known=known),
                "onnx fp32": FeatureRunner(config, tok, fp32),
                **{label: FeatureRunner(config, tok, path) for label, path in quantized.items()}}

    def bundle(self, model: Path, out_dir: Path, provenance: dict) -> BundleInfo:
        """Smoke inputs: up to SMOKE_PAIRS responses of the first held-out question (a whole group,
        so the device's balancing is checked too, when the classes are that few)."""
        from edge.runtime.detect import open_bundle

        first = self.ds.holdout_inputs[0][0]
        smoke = [x for x in self.ds.holdout_inputs if x[0] == first][: min(self.ds.n_classes, SMOKE_PAIRS)]
        caps = BundleConfig(provenance=provenance, **BUNDLE_CAPS)
        settings = {**self.student_config(), "smoke_tolerance": caps.smoke_tolerance, "bundle_caps": BUNDLE_CAPS,
                    "provenance": provenance,
                    "submission": check_submission_columns(self.ds.submission, self.ds.label_names)}
        copies = {"model.onnx": model, "tokenizer.json": self.lm_dir / "tokenizer.json",
                  **{name: RUNTIME_DIR / name for name in RUNTIME_FILES}}

        def write_smoke(folder: Path) -> None:
            probs = open_bundle(folder, threads=1).predict_proba(smoke)
            lines = [json.dumps({"text": q, "text_pair": r, "probs": [round(float(p), 8) for p in row]})
                     for (q, r), row in zip(smoke, probs)]
            (folder / "smoke.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

        return assemble_bundle(out_dir, copies, {"config.json": json.dumps(settings, indent=2) + "\n"}, caps,
                               finish=write_smoke)
