"""The `make edge` flow, the same for every kind of shipped model: teacher -> student ->
ONNX export -> parity check -> quantized candidates (int8, ...) -> comparison table -> the
candidate that ships (edge/candidates.py; with pick_on_device, picked on the device by
edge/device_pick.py) -> bundle -> deploy. The kind supplies the student, its export, its
variants and its bundle (edge/classifier/steps.py); the gates, the table, the report and the
deploy are here.
A solution that is a plan the device can run as it is takes the port flow instead: host ->
bundle (the device program must reproduce the host's outputs exactly) -> comparison table ->
deploy, with no student (edge/writer/steps.py).

    from edge.pipeline import EdgeConfig, run_edge
    report = run_edge(get_competition("detect-ai-text"), load_dataset(comp), EdgeConfig())
    report.scores        # {"teacher": 0.97, "pytorch fp32": 0.96, "onnx fp32": 0.96, "onnx int8": 0.96}

    python -m cli edge --comp detect-ai-text [--device pi@host [--pick-on-device]] [--skip-deploy] [--fast]

A competition's edge spec returns a common.distill_set.DistillSet, whose `student` names the
kind of student (STUDENTS): "classifier" (edge/classifier) or "lm_features" (edge/lm_features);
or a common.port_set.PortSet, whose `kind` names the device program (PORTS): "essay_writer" or
"prompt_writer" (edge/writer), "science_answerer" (edge/retriever: retrieval + a causal LM
scorer). FLOWS maps the type of the spec to its flow.
Everything lands in build/edge/<slug>/: student.fp32.onnx, student.<candidate>.onnx, compare.csv/.png,
bundle/ and report.json (a port: compare.csv, bundle/, report.json; an answerer also its
encoder.*.onnx and index/). The teacher's members and
the student cache to disk, so a rerun with the same data and settings skips training.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from common.atomic import atomic_write_text
from common.data import Dataset
from common.distill_set import DistillSet
from common.errors import UserError
from common.port_set import PortSet
from common.paths import repo_root
from common.registry import Competition
from common.results import git_commit
from edge.classifier.distill import DistillConfig
from edge.classifier.export import OPSET
from edge.classifier.steps import ClassifierSteps
from edge.lm_features.student import FeatureStudentConfig
from edge.lm_features.steps import LmFeatureSteps
from edge.candidates import pick_shipped, quantize_candidates
from edge.deploy.ssh import SshOptions
from edge.compare import PortRow, compare_variants, format_port_table, format_table, save_csv, save_table
from edge.retriever.steps import AnswererSteps
from edge.writer.steps import WriterSteps


@dataclass
class EdgeConfig:
    """distill: the classifier student (layers, max_length, epochs...). opset: ONNX opset (17).
    parity_tolerance: max |onnx - torch| logit difference accepted (1e-3).
    max_int8_drop: largest held-out score loss of a quantized candidate vs ONNX fp32 (a candidate losing more never ships), in the
        metric's direction (None: the metric's entry in INT8_DROP, 0.01 for a score in [0, 1]).
        teacher_gap: the target |teacher - shipped student| held-out gap, reported as met or not
        (None: TEACHER_GAP's entry, 0.02 for a score in [0, 1]).
    latency_texts: held-out inputs timed one by one per variant and thread count (40; a port:
        by its device program, 10 times each). latency_rounds: interleaved timing passes over
        the candidates, whose median p50 picks the one that ships (3: one pass on a noisy machine
        let the pick flip between two int8 candidates).
    out_dir: where files go (None: build/edge/<slug>). deploy_root: folder on the device.
    emulated_dir: the emulated Pi's device folder (None: cache/emulated-pi/device). Both hold
        one folder per competition (<root>/<slug>/versions, <root>/<slug>/current).
    pick_on_device: pick the candidate that ships on the device's scores and timings (a real
        device only; edge/device_pick.py). ssh_options: how to reach it (None: ssh's defaults)."""

    distill: DistillConfig = field(default_factory=DistillConfig)
    opset: int = OPSET
    parity_tolerance: float = 1e-3
    max_int8_drop: float | None = None
    teacher_gap: float | None = None
    latency_texts: int = 40
    latency_rounds: int = 3
    out_dir: Path | None = None
    deploy_root: str = "kllm-edge"
    emulated_dir: Path | None = None
    pick_on_device: bool = False
    ssh_options: SshOptions | None = None


# Log loss is unbounded and moves more than a [0, 1] score: its gates are wider.
INT8_DROP = {"multiclass_logloss": 0.05}
TEACHER_GAP = {"multiclass_logloss": 0.10, "map@3": 0.03}   # map@3: issue 16's science-exam target
# A judge panel's score has no fixed scale: its gap target is a share of the host's score.
RELATIVE_GAP = {"judge_score": 0.10}
STUDENTS = {  # DistillSet.student -> the steps of that kind of student (the distill flow)
    "classifier": lambda ds, config: ClassifierSteps(ds, config.distill),
    "lm_features": lambda ds, config: LmFeatureSteps(ds, FeatureStudentConfig(seed=config.distill.seed, **ds.student_options)),
}
PORTS = {  # PortSet.kind -> the steps of that device program (the port flow)
    "essay_writer": lambda ps, config: WriterSteps(ps, config.latency_texts),
    "prompt_writer": lambda ps, config: WriterSteps(ps, config.latency_texts),
    "science_answerer": lambda ps, config: AnswererSteps(ps, min(config.latency_texts, ANSWERER_LATENCY_QUESTIONS)),
}
ANSWERER_LATENCY_QUESTIONS = 5   # a causal LM per question: seconds each, not milliseconds


def gates(config: EdgeConfig, metric: str, reference: float | None = None) -> tuple[float, float]:
    """(max int8 drop, teacher gap) for this metric: the config's, else the metric's defaults
    (a RELATIVE_GAP metric's gap is that share of |reference|, the teacher's score)."""
    drop = config.max_int8_drop if config.max_int8_drop is not None else INT8_DROP.get(metric, 0.01)
    if config.teacher_gap is not None:
        gap = config.teacher_gap
    elif metric in RELATIVE_GAP and reference is not None:
        gap = RELATIVE_GAP[metric] * abs(reference)
    else:
        gap = TEACHER_GAP.get(metric, 0.02)
    return drop, gap


def fast_config(seed: int = 42) -> EdgeConfig:
    """A quick check: 1-layer student, 64 tokens, 1 epoch; looser int8 drop on tiny data."""
    return EdgeConfig(distill=DistillConfig(num_layers=1, max_length=64, epochs=1, seed=seed),
                      max_int8_drop=0.05, latency_texts=10, latency_rounds=1)


@dataclass
class EdgeReport:
    """summary: the one line `kllm edge` prints. teacher_gap_met: the device within the gap
    target of the teacher. A distilled student also has its parity and the shipped candidate's speedup."""

    competition: str
    teacher: str
    scores: dict[str, float]
    table: str
    files: dict[str, str]
    summary: str = ""
    teacher_gap_met: bool | None = None
    parity_max_abs_diff: float | None = None
    shipped_vs_pytorch_speedup_1t: float | None = None
    bundle: dict = field(default_factory=dict)
    deploy: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)


@dataclass
class EdgeRun:
    """What every flow gets besides the spec. info: seed, fast, data source, for the report."""

    competition: Competition
    config: EdgeConfig
    out: Path
    device: str | None
    skip_deploy: bool
    info: dict
    log: Callable


def load_spec(competition: Competition, data: Dataset, seed: int = 42, fast: bool = False,
              options: dict | None = None) -> DistillSet | PortSet:
    """Run the competition's edge spec (it runs the teacher); it must return a DistillSet or a PortSet."""
    build = competition.load_entry("edge_spec")
    try:
        spec = build(data, seed=seed, fast=fast, options=options or {})
    except UserError as exc:
        raise UserError(f"{competition.slug} edge spec: {exc}") from None
    if not isinstance(spec, tuple(FLOWS)):
        raise UserError(f"{competition.slug} edge spec returned {type(spec).__name__}, "
                        "want a common.distill_set.DistillSet or a common.port_set.PortSet")
    return spec


def load_distill_set(competition: Competition, data: Dataset, seed: int = 42, fast: bool = False,
                     options: dict | None = None) -> DistillSet:
    """The competition's edge spec, which must be a DistillSet (a student to distill)."""
    spec = load_spec(competition, data, seed, fast, options)
    if not isinstance(spec, DistillSet):
        raise UserError(f"{competition.slug} edge spec returned {type(spec).__name__}, want a common.distill_set.DistillSet")
    return spec


def run_edge(competition: Competition, data: Dataset, config: EdgeConfig | None = None, device: str | None = None,
             skip_deploy: bool = False, seed: int = 42, fast: bool = False, options: dict | None = None,
             log=print) -> EdgeReport:
    """The competition's edge spec, then the flow of its type (FLOWS): a report, the bundle, a deploy."""
    config = config or (fast_config(seed) if fast else EdgeConfig(distill=DistillConfig(seed=seed)))
    out = Path(config.out_dir or repo_root() / "build" / "edge" / competition.slug)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    if config.pick_on_device:   # an unreachable device fails before any training
        from edge.deploy.lifecycle import open_device
        from edge.device_pick import check_pick_on_device

        check_pick_on_device(device)
        if _declared_kind(competition) is PortSet:
            _refuse_port_pick(competition)
        with open_device(device, config.deploy_root, config.ssh_options, log=log):
            pass
    log(f"teacher: {competition.slug} edge spec on {data.source} data")
    spec = load_spec(competition, data, seed=seed, fast=fast, options=options)
    info = {"seed": seed, "fast": fast, "data_source": data.source}
    run = EdgeRun(competition, config, out, device, skip_deploy, info, log)
    report = FLOWS[type(spec)](run, spec)
    report.info["wall_s"] = round(time.perf_counter() - started, 1)
    save_report(report, out)
    return report


def _declared_kind(competition: Competition):
    """The type the edge spec says it returns (None when it does not say): known before it runs."""
    import typing

    try:
        return typing.get_type_hints(competition.load_entry("edge_spec")).get("return")
    except (NameError, TypeError):
        return None


def _refuse_port_pick(competition: Competition):
    raise UserError(f"--pick-on-device: {competition.slug} ships one device program (a port), "
                    "with no candidates to pick from")


def run_distill(run: EdgeRun, ds: DistillSet) -> EdgeReport:
    """Student -> ONNX -> parity -> quantized candidates -> table -> the one that ships -> bundle -> deploy."""
    config, out, log = run.config, run.out, run.log
    log(f"[1/7] teacher: {ds.teacher}; held-out {ds.metric} {ds.teacher_score:.4f} on {len(ds.holdout_inputs)} inputs")
    steps = STUDENTS[ds.student](ds, config)
    max_drop, teacher_gap = gates(config, ds.metric)

    log(f"[2/7] student ({steps.kind}): {steps.describe()}")
    student_dir = steps.train()

    log(f"[3/7] export ONNX (opset {config.opset}, TorchScript exporter), parity check")
    files, parity = steps.export(out, config.opset)
    log(f"      max |onnx - torch| output diff {parity.max_abs_diff:.2e} over {parity.texts} inputs")
    if not parity.ok(config.parity_tolerance):
        raise UserError(f"ONNX parity failed: max abs diff {parity.max_abs_diff:.2e} > {config.parity_tolerance:g}")

    log("[4/7] quantize: the candidates")
    quantized = quantize_candidates(steps, files["fp32"], out, log)

    log(f"[5/7] compare: size, batch-1 latency (1 and 4 threads, median of {config.latency_rounds} interleaved "
        "rounds), held-out score and accuracy")
    timed = min(config.latency_texts, getattr(steps, "max_latency_inputs", config.latency_texts))
    rows = compare_variants(steps.runners(files["fp32"], quantized), ds.holdout_inputs[:timed],
                            ds.holdout_inputs, ds.score, accuracy_fn=ds.accuracy, rounds=config.latency_rounds)
    table = format_table(rows, metric=ds.metric)
    csv_path, png_path = save_table(rows, out / "compare", metric=ds.metric)
    scores = {"teacher": ds.teacher_score, **{r.variant: r.score for r in rows}}
    accuracy = {"teacher": ds.accuracy(ds.holdout_teacher), **{r.variant: r.accuracy for r in rows}}
    log(table)
    log(f"      teacher: {ds.metric} {ds.teacher_score:.4f}, accuracy {accuracy['teacher']:.4f}")

    choice = pick_shipped(rows, quantized, ds, max_drop, teacher_gap)
    on_device = {}
    if config.pick_on_device:
        from edge.device_pick import repick_on_device

        choice, on_device = repick_on_device(run, ds, steps, files["fp32"], quantized, rows, choice,
                                             ds.holdout_inputs[:timed], max_drop, teacher_gap)
    shipped = quantized[choice.label]
    log(f"[6/7] retention: shipping {choice.label} ({choice.why}): vs fp32 {-choice.drop:+.4f}; vs teacher "
        f"{choice.gap:.4f} ({'within' if choice.gap_met else 'NOT within'} {teacher_gap}); accuracy "
        f"{accuracy[choice.label]:.4f} vs teacher {accuracy['teacher']:.4f}")

    report = EdgeReport(
        competition=run.competition.slug, teacher=ds.teacher, scores=scores,
        parity_max_abs_diff=parity.max_abs_diff, shipped_vs_pytorch_speedup_1t=choice.row.speedup_1t,
        teacher_gap_met=choice.gap_met, table=table,
        files={**{k: str(v) for k, v in files.items()}, **{k: str(v) for k, v in quantized.items()},
               "shipped": str(shipped), "csv": str(csv_path), "png": str(png_path), "student": str(student_dir)},
        summary=(f"teacher {ds.teacher_score:.4f} vs {choice.label} student {choice.row.score:.4f} (gap target met: "
                 f"{choice.gap_met}); it is {choice.row.speedup_1t:.2f}x PyTorch fp32 at batch 1, 1 thread"
                 + (f"; picked on {on_device['device']} ({on_device['machine']}), where the host picked "
                    f"{on_device['host_pick']}" if on_device else "")),
        info={"kind": steps.kind, "metric": ds.metric, "higher_is_better": ds.higher_is_better,
              "labels": list(ds.label_names), "pairs": ds.pairs, "spec": ds.info,
              "config": _jsonable(asdict(config)), "holdout_inputs": len(ds.holdout_inputs),
              "student": steps.describe(), "gates": {"max_int8_drop": max_drop, "teacher_gap": teacher_gap},
              "shipped": choice.label, "shipped_why": choice.why, "accuracy": accuracy,
              **({"picked_on_device": on_device} if on_device else {}),
              "rows": [asdict(r) for r in rows], **run.info},
    )
    save_report(report, out)  # written before shipping too, so a failed deploy keeps the numbers
    log("[7/7] bundle + deploy")
    provenance = _provenance(report, steps, config)
    report.bundle = ship(report, lambda prov: steps.bundle(shipped, out / "bundle", prov), provenance, run)
    return report


def run_port(run: EdgeRun, ps: PortSet) -> EdgeReport:
    """Bundle (it must reproduce the host's outputs) -> the device program's outputs on the
    held-out rows, scored on the host -> table -> bundle with the scores -> deploy."""
    config, out, log = run.config, run.out, run.log
    if config.pick_on_device:
        _refuse_port_pick(run.competition)
    steps = PORTS[ps.kind](ps, config)
    host_score = ps.score(ps.holdout_outputs)
    log(f"[1/4] host: {ps.teacher}; held-out {ps.metric} {host_score:.4f} on {len(ps.holdout_inputs)} inputs")
    log(f"[2/4] bundle ({steps.kind}): {steps.describe()}")
    first = steps.bundle(out / "bundle", {"competition": run.competition.slug, "teacher": ps.teacher})
    log(f"      {getattr(steps, 'bundle_check', f'the runtime writes all {len(ps.inputs)} host outputs byte for byte')}")
    log("[3/4] compare: the device program's outputs on the held-out inputs, scored here; latency and peak memory")
    device_out = steps.device_outputs(first.path)
    same = sum(a == b for a, b in zip(device_out, ps.holdout_outputs))
    device_score = ps.score(device_out)
    timing = steps.bench(first.path, out)
    n, size_mb = len(device_out), first.total_bytes / 1024 / 1024
    rows = [PortRow("host solution", host_score, f"{n}/{n}"),
            PortRow("device bundle", device_score, f"{same}/{n}", size_mb, timing["p50_ms"], timing["p95_ms"],
                    timing.get("peak_rss_mb"))]
    table = format_port_table(rows, metric=ps.metric)
    log(table)
    _, teacher_gap = gates(config, ps.metric, host_score)
    gap = abs(host_score - device_score)
    met = gap <= teacher_gap
    log(f"      device vs host {0.0 - ps.shortfall(host_score, device_score):+.4f} "
        f"({'within' if met else 'NOT within'} {teacher_gap:.4g}); {same} of {n} held-out outputs identical")
    scores = {"host": host_score, "device": device_score}
    report = EdgeReport(
        competition=run.competition.slug, teacher=ps.teacher, scores=scores, table=table, teacher_gap_met=met,
        files={"csv": str(save_csv(rows, out / "compare")), "latency_inputs": str(out / "latency_inputs.jsonl")},
        summary=(f"host {host_score:.4f} vs device {device_score:.4f} {ps.metric} (gap target met: {met}); "
                 f"{same}/{n} held-out outputs identical; {timing['p50_ms']:.3f} ms per input at batch 1, "
                 f"peak {timing.get('peak_rss_mb')} MB"),
        info={"kind": steps.kind, "metric": ps.metric, "higher_is_better": ps.higher_is_better, "spec": ps.info,
              "config": _jsonable(asdict(config)), "holdout_inputs": n, "identical_outputs": same,
              "student": steps.describe(), "bench": timing, "gates": {"teacher_gap": teacher_gap}, **run.info},
    )
    save_report(report, out)
    log("[4/4] bundle + deploy")
    provenance = _provenance(report, steps, config)
    report.bundle = ship(report, lambda prov: steps.bundle(out / "bundle", prov), provenance, run)
    return report


FLOWS = {DistillSet: run_distill, PortSet: run_port}


def save_report(report: EdgeReport, out: Path) -> Path:
    return atomic_write_text(out / "report.json", json.dumps(_jsonable(asdict(report)), indent=2) + "\n")


def _provenance(report: EdgeReport, steps, config: EdgeConfig) -> dict:
    return {"competition": report.competition, "teacher": report.teacher,
            "metric": report.info.get("metric"), "scores": {k: round(v, 4) for k, v in report.scores.items()},
            "student": steps.describe(), "seed": config.distill.seed, "commit": git_commit(),
            **({"shipped": report.info["shipped"]} if "shipped" in report.info else {})}


def ship(report: EdgeReport, build_bundle: Callable, provenance: dict, run: EdgeRun) -> dict:
    """Build the bundle (build_bundle(provenance) -> BundleInfo), then deploy it (ssh device,
    emulated Pi, or nowhere with skip_deploy)."""
    config, device, log = run.config, run.device, run.log
    bundle = build_bundle(provenance)
    log(f"      bundle {bundle.path} version {bundle.version}, {bundle.total_bytes / 1024 / 1024:.1f} MB")
    if run.skip_deploy:
        log("      deploy skipped (--skip-deploy)")
    else:
        if device:
            from edge.deploy.ssh import deploy_ssh

            result = deploy_ssh(bundle.path, device, config.ssh_options, root=config.deploy_root,
                                competition=report.competition, log=log)
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
