"""The `make edge` flow, the same for every kind of shipped model: teacher -> student ->
ONNX export -> parity check -> int8 quantization -> retention check -> comparison table ->
bundle -> deploy. The kind supplies the student, its export, its variants and its bundle
(edge/classifier/steps.py); the gates, the table, the report and the deploy are here.

    from edge.pipeline import EdgeConfig, run_edge
    report = run_edge(get_competition("detect-ai-text"), load_dataset(comp), EdgeConfig())
    report.scores        # {"teacher": 0.97, "pytorch fp32": 0.96, "onnx fp32": 0.96, "onnx int8": 0.96}

    python -m cli edge --comp detect-ai-text [--device pi@host] [--skip-deploy] [--fast]

A competition's edge spec returns a common.distill_set.DistillSet; its `student` names the kind
of student (STUDENTS): "classifier" (edge/classifier) or "lm_features" (edge/lm_features).
Everything lands in build/edge/<slug>/: student.fp32.onnx, student.int8.onnx, compare.csv/.png,
bundle/ and report.json. The teacher's members and the student cache to disk, so a rerun with the
same data and settings skips training.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.atomic import atomic_write_text
from common.data import Dataset
from common.distill_set import DistillSet
from common.errors import UserError
from common.paths import repo_root
from common.registry import Competition
from common.results import git_commit
from edge.classifier.distill import DistillConfig
from edge.classifier.export import OPSET
from edge.classifier.steps import ClassifierSteps
from edge.lm_features.student import FeatureStudentConfig
from edge.lm_features.steps import LmFeatureSteps
from edge.compare import compare_variants, format_table, save_table
from edge.quantize import quantize_int8


@dataclass
class EdgeConfig:
    """distill: the classifier student (layers, max_length, epochs...). opset: ONNX opset (17).
    parity_tolerance: max |onnx - torch| logit difference accepted (1e-3).
    max_int8_drop: largest held-out score loss of int8 vs ONNX fp32 before the run stops, in the
        metric's direction (None: the metric's entry in INT8_DROP, 0.01 for a score in [0, 1]).
        teacher_gap: the target |teacher - int8 student| held-out gap, reported as met or not
        (None: TEACHER_GAP's entry, 0.02 for a score in [0, 1]).
    latency_texts: held-out inputs timed one by one per variant and thread count (40).
    out_dir: where files go (None: build/edge/<slug>). deploy_root: folder on the device.
    emulated_dir: the emulated Pi's device folder (None: cache/emulated-pi/device). Both hold
        one folder per competition (<root>/<slug>/versions, <root>/<slug>/current)."""

    distill: DistillConfig = field(default_factory=DistillConfig)
    opset: int = OPSET
    parity_tolerance: float = 1e-3
    max_int8_drop: float | None = None
    teacher_gap: float | None = None
    latency_texts: int = 40
    out_dir: Path | None = None
    deploy_root: str = "kllm-edge"
    emulated_dir: Path | None = None


# Log loss is unbounded and moves more than a [0, 1] score: its gates are wider.
INT8_DROP = {"multiclass_logloss": 0.05}
TEACHER_GAP = {"multiclass_logloss": 0.10}
STUDENTS = {
    "classifier": lambda ds, config: ClassifierSteps(ds, config.distill),
    "lm_features": lambda ds, config: LmFeatureSteps(ds, FeatureStudentConfig(seed=config.distill.seed, **ds.student_options)),
}


def gates(config: EdgeConfig, metric: str) -> tuple[float, float]:
    """(max int8 drop, teacher gap) for this metric: the config's, else the metric's defaults."""
    drop = config.max_int8_drop if config.max_int8_drop is not None else INT8_DROP.get(metric, 0.01)
    gap = config.teacher_gap if config.teacher_gap is not None else TEACHER_GAP.get(metric, 0.02)
    return drop, gap


def fast_config(seed: int = 42) -> EdgeConfig:
    """A quick check: 1-layer student, 64 tokens, 1 epoch; looser int8 drop on tiny data."""
    return EdgeConfig(distill=DistillConfig(num_layers=1, max_length=64, epochs=1, seed=seed),
                      max_int8_drop=0.05, latency_texts=10)


@dataclass
class EdgeReport:
    competition: str
    teacher: str
    scores: dict[str, float]
    parity_max_abs_diff: float
    int8_vs_pytorch_speedup_1t: float
    teacher_gap_met: bool
    table: str
    files: dict[str, str]
    bundle: dict = field(default_factory=dict)
    deploy: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


def load_distill_set(competition: Competition, data: Dataset, seed: int = 42, fast: bool = False,
                     options: dict | None = None) -> DistillSet:
    """Run the competition's edge spec (it trains the teacher); it must return a DistillSet."""
    build = competition.load_entry("edge_spec")
    try:
        ds = build(data, seed=seed, fast=fast, options=options or {})
    except UserError as exc:
        raise UserError(f"{competition.slug} edge spec: {exc}") from None
    if not isinstance(ds, DistillSet):
        raise UserError(f"{competition.slug} edge spec returned {type(ds).__name__}, "
                        "want a common.distill_set.DistillSet")
    return ds


def run_edge(competition: Competition, data: Dataset, config: EdgeConfig | None = None, device: str | None = None,
             skip_deploy: bool = False, seed: int = 42, fast: bool = False, options: dict | None = None,
             log=print) -> EdgeReport:
    config = config or (fast_config(seed) if fast else EdgeConfig(distill=DistillConfig(seed=seed)))
    out = Path(config.out_dir or repo_root() / "build" / "edge" / competition.slug)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    log(f"[1/7] teacher: {competition.slug} edge spec on {data.source} data")
    ds = load_distill_set(competition, data, seed=seed, fast=fast, options=options)
    log(f"      {ds.teacher}; held-out {ds.metric} {ds.teacher_score:.4f} on {len(ds.holdout_inputs)} inputs")
    steps = STUDENTS[ds.student](ds, config)
    max_drop, teacher_gap = gates(config, ds.metric)

    log(f"[2/7] student ({steps.kind}): {steps.describe()}")
    student_dir = steps.train()

    log(f"[3/7] export ONNX (opset {config.opset}, TorchScript exporter), parity check")
    files, parity = steps.export(out, config.opset)
    log(f"      max |onnx - torch| output diff {parity.max_abs_diff:.2e} over {parity.texts} inputs")
    if not parity.ok(config.parity_tolerance):
        raise UserError(f"ONNX parity failed: max abs diff {parity.max_abs_diff:.2e} > {config.parity_tolerance:g}")

    quantize = getattr(steps, "quantize", None)
    log(f"[4/7] quantize: {'weight-only int8 (MatMulNBits, blocks of 32)' if quantize else 'dynamic int8 (QInt8 weights)'}")
    int8 = (quantize or quantize_int8)(files["fp32"], out / "student.int8.onnx")

    log("[5/7] compare: size, batch-1 latency (1 and 4 threads), held-out score")
    timed = min(config.latency_texts, getattr(steps, "max_latency_inputs", config.latency_texts))
    rows = compare_variants(steps.runners(files["fp32"], int8), ds.holdout_inputs[:timed],
                            ds.holdout_inputs, ds.score)
    table = format_table(rows, metric=ds.metric)
    csv_path, png_path = save_table(rows, out / "compare", metric=ds.metric)
    scores = {"teacher": ds.teacher_score, **{r.variant: r.score for r in rows}}
    log(table)

    drop = ds.shortfall(scores["onnx fp32"], scores["onnx int8"])
    gap = abs(ds.teacher_score - scores["onnx int8"])
    log(f"[6/7] retention: int8 vs fp32 {-drop:+.4f}; int8 student vs teacher {gap:.4f} "
        f"({'within' if gap <= teacher_gap else 'NOT within'} {teacher_gap})")
    if drop > max_drop:
        raise UserError(f"int8 lost {drop:.4f} {ds.metric} against ONNX fp32 (limit {max_drop}); not shipping it")

    report = EdgeReport(
        competition=competition.slug, teacher=ds.teacher, scores=scores,
        parity_max_abs_diff=parity.max_abs_diff, int8_vs_pytorch_speedup_1t=rows[-1].speedup_1t,
        teacher_gap_met=gap <= teacher_gap, table=table,
        files={**{k: str(v) for k, v in files.items()}, "int8": str(int8), "csv": str(csv_path),
               "png": str(png_path), "student": str(student_dir)},
        info={"kind": steps.kind, "metric": ds.metric, "higher_is_better": ds.higher_is_better,
              "labels": list(ds.label_names), "pairs": ds.pairs, "spec": ds.info,
              "config": _jsonable(asdict(config)), "seed": seed, "fast": fast, "data_source": data.source,
              "holdout_inputs": len(ds.holdout_inputs), "student": steps.describe(),
              "gates": {"max_int8_drop": max_drop, "teacher_gap": teacher_gap}},
    )
    save_report(report, out)  # written before shipping too, so a failed deploy keeps the numbers
    log("[7/7] bundle + deploy")
    report.bundle = ship(report, steps, int8, out, config, device, skip_deploy, log)
    report.info["wall_s"] = round(time.perf_counter() - started, 1)
    save_report(report, out)
    return report


def save_report(report: EdgeReport, out: Path) -> Path:
    return atomic_write_text(out / "report.json", json.dumps(_jsonable(asdict(report)), indent=2) + "\n")


def ship(report: EdgeReport, steps, model: Path, out: Path, config: EdgeConfig, device: str | None,
         skip_deploy: bool, log) -> dict:
    """Build the bundle, then deploy it (ssh device, emulated Pi, or nowhere with skip_deploy)."""
    provenance = {"competition": report.competition, "teacher": report.teacher,
                  "metric": report.info.get("metric"), "scores": {k: round(v, 4) for k, v in report.scores.items()},
                  "student": steps.describe(), "seed": config.distill.seed, "commit": git_commit()}
    bundle = steps.bundle(model, out / "bundle", provenance)
    log(f"      bundle {bundle.path} version {bundle.version}, {bundle.total_bytes / 1024 / 1024:.1f} MB")
    if skip_deploy:
        log("      deploy skipped (--skip-deploy)")
    else:
        if device:
            from edge.deploy.ssh import deploy_ssh

            result = deploy_ssh(bundle.path, device, root=config.deploy_root, competition=report.competition, log=log)
        else:
            from edge.deploy.emulated import deploy_emulated

            result = deploy_emulated(bundle.path, config.emulated_dir, competition=report.competition, log=log)
        report.deploy = _jsonable(asdict(result))
        log(f"      deployed {result.version} to {result.device} (machine {result.smoke.get('machine', '?')})")
    return {"path": str(bundle.path), "version": bundle.version, "total_mb": round(bundle.total_bytes / 1024 / 1024, 2)}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    return value
