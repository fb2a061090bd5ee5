"""The classifier's part of the shared `make edge` flow (edge/pipeline.py): a student distilled
from a DistillSet, exported to ONNX with a parity check, its variants, and its bundle.

    steps = ClassifierSteps(distill_set, DistillConfig(num_layers=3), PruneConfig())   # prune: None, no pruned candidate
    student_dir = steps.train()                                   # cached by inputs and config
    files, parity = steps.export(Path("build/edge/x"), opset=17)  # {"export": raw, "fp32": fused}, ParityReport
    runners = steps.runners(files["fp32"], {"onnx int8": int8})   # for edge.compare.compare_variants
    info = steps.bundle(int8, Path("build/edge/x/bundle"), provenance={...})

Another kind of shipped model (edge/generator, edge/retriever) brings its own steps with the
same five methods; quantization, gates, the table, bundling and deploy stay in the pipeline.
"""
from __future__ import annotations

from pathlib import Path

from common.distill_set import DistillSet
from common.errors import UserError
from edge.bundle import BundleInfo
from edge.classifier.bundle import DEFAULT_SMOKE_TEXTS, ClassifierBundleConfig, build_bundle
from edge.classifier.distill import DistillConfig, distill_student_cached, load_student
from edge.classifier.export import OPSET, ParityReport, check_parity, export_onnx, fuse_for_cpu
from edge.classifier.prune import PruneConfig, pruned_student_cached
from edge.classifier.runners import OnnxRunner, TorchRunner
from edge.classifier.static_int8 import calibration_feeds, quantize_static_int8
from edge.candidates import DEFAULT_QUANTIZERS, Quantizer

PARITY_INPUTS = 32
CALIBRATION_INPUTS = 128   # distill inputs whose activations set the static int8 ranges
PRUNED_FP32 = "student.pruned.fp32.onnx"   # beside the pruned candidate: its reference row
PRUNED_PARITY = 1e-3       # EdgeConfig.parity_tolerance's default, for the pruned student's export


class ClassifierSteps:
    kind = "classifier"

    def __init__(self, ds: DistillSet, config: DistillConfig, prune: PruneConfig | None = None):
        self.ds, self.config, self.prune = ds, config, prune
        self.student_dir: Path | None = None
        self.opset = OPSET
        self.files: dict[str, Path] = {}

    def describe(self) -> str:
        what = "text pairs" if self.ds.pairs else "texts"
        return (f"{self.config.num_layers}-layer {self.config.model}, {len(self.ds.inputs)} {what} with "
                f"soft labels over {self.ds.n_classes} classes"
                + (f"; pruned candidate: {self.prune.describe(self.config.num_layers)}" if self.prune else ""))

    def train(self) -> Path:
        self.student_dir = distill_student_cached(self.ds.inputs, self.ds.soft_labels, self.config)
        return self.student_dir

    def export(self, out: Path, opset: int) -> tuple[dict[str, Path], ParityReport]:
        """student.export.onnx (as traced) and student.fp32.onnx (fused), checked against PyTorch."""
        self.opset = opset
        raw, fp32, parity = self.export_checked(self.student_dir, out / "student.export.onnx", out / "student.fp32.onnx")
        self.files = {"export": raw, "fp32": fp32}
        return dict(self.files), parity

    def export_checked(self, folder: Path, raw: Path, fp32: Path) -> tuple[Path, Path, ParityReport]:
        """The student in `folder` traced to `raw`, fused to `fp32` and checked against PyTorch
        on the first PARITY_INPUTS held-out inputs."""
        model, tokenizer = load_student(folder)
        raw = export_onnx(model, tokenizer, raw, opset=self.opset)
        fp32 = fuse_for_cpu(raw, fp32, model.config.num_attention_heads, model.config.hidden_size)
        parity = check_parity(model, tokenizer, fp32, self.ds.holdout_inputs[:PARITY_INPUTS],
                              max_length=self.config.max_length)
        return raw, fp32, parity

    def quantizers(self) -> dict[str, Quantizer]:
        """Dynamic int8; static int8 calibrated on the first CALIBRATION_INPUTS distill inputs
        (from the raw export: edge/classifier/static_int8.py fuses it its own way); with a
        PruneConfig, the student pruned and re-distilled (edge/classifier/prune.py) at dynamic int8."""
        model, tokenizer = load_student(self.student_dir)
        heads, hidden = model.config.num_attention_heads, model.config.hidden_size
        feeds = calibration_feeds(tokenizer, self.ds.inputs[:CALIBRATION_INPUTS], self.config.max_length)
        static = lambda _fp32, dst: quantize_static_int8(self.files["export"], dst, feeds, heads, hidden)  # noqa: E731
        quantizers = {**DEFAULT_QUANTIZERS,
                      "onnx int8 static": Quantizer(f"static int8 (QDQ, per-channel, calibrated on {CALIBRATION_INPUTS} "
                                                    "distill inputs)", static)}
        if self.prune is not None:
            quantizers["onnx int8 pruned"] = Quantizer(
                f"structured pruning ({self.prune.describe(self.config.num_layers)}), then dynamic int8", self.pruned_int8)
        return quantizers

    def pruned_int8(self, _fp32: Path, dst: Path) -> Path:
        """The pruned, re-distilled student exported, fused, parity-checked and quantized to `dst`."""
        folder = pruned_student_cached(self.student_dir, self.ds.inputs, self.ds.soft_labels, self.config, self.prune)
        _, fp32, parity = self.export_checked(folder, dst.with_name("student.pruned.export.onnx"),
                                              dst.with_name(PRUNED_FP32))
        if not parity.ok(PRUNED_PARITY):
            raise UserError(f"pruned student's ONNX parity failed: max abs diff {parity.max_abs_diff:.2e}")
        return DEFAULT_QUANTIZERS["onnx int8"].fn(fp32, dst)

    def runners(self, fp32: Path, quantized: dict[str, Path]) -> dict[str, object]:
        """PyTorch and ONNX fp32, every candidate, and, beside the pruned candidate, the pruned
        student at fp32 (a reference row that never ships: what pruning alone buys)."""
        _, tokenizer = load_student(self.student_dir)
        max_len = self.config.max_length
        runners = {"pytorch fp32": TorchRunner(self.student_dir, max_len),
                   "onnx fp32": OnnxRunner(fp32, tokenizer, max_len)}
        for label, path in quantized.items():
            if label == "onnx int8 pruned":
                runners["onnx fp32 pruned"] = OnnxRunner(path.with_name(PRUNED_FP32), tokenizer, max_len)
            runners[label] = OnnxRunner(path, tokenizer, max_len)
        return runners

    def bundle(self, model: Path, out_dir: Path, provenance: dict) -> BundleInfo:
        """Text students get the three default smoke essays; pair students their first held-out pairs."""
        smoke = tuple(self.ds.holdout_inputs[:3]) if self.ds.pairs else DEFAULT_SMOKE_TEXTS
        return build_bundle(model, self.student_dir, out_dir, ClassifierBundleConfig(
            max_length=self.config.max_length, labels=self.ds.label_names, positive_label=self.ds.positive_label,
            smoke_inputs=smoke, provenance=provenance, submission=tuple(self.ds.submission)))
