"""The `make edge` flow, the same for every kind of shipped model: teacher -> student ->
ONNX export -> parity check -> quantized candidates (int8, ...) -> comparison table -> the
candidate that ships (edge/candidates.py; with pick_on_device, picked on the device by
edge/device_pick.py) -> bundle -> deploy. The kind supplies the student, its export, its
variants and its bundle (edge/classifier/steps.py); the table is here, the settings and gates
in edge/config.py, the report and the deploy in edge/ship.py.
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

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from common.data import Dataset
from common.distill_set import DistillSet
from common.errors import UserError
from common.port_set import PortSet
from common.paths import repo_root
from common.registry import Competition
from edge.classifier.steps import ClassifierSteps
from edge.config import EdgeConfig, edge_config, gates
from edge.lm_features.student import FeatureStudentConfig
from edge.lm_features.steps import LmFeatureSteps
from edge.candidates import pick_shipped, quantize_candidates
from edge.compare import (PortRow, compare_variants, fill_to_length, format_port_table, format_table, save_csv,
                          save_table)
from edge.generator.variants import check_lm_variant
from edge.retriever.steps import AnswererSteps
from edge.ship import clear_last_run, jsonable, provenance_of, save_report, ship
from edge.writer.steps import WriterSteps


STUDENTS = {  # DistillSet.student -> the steps of that kind of student (the distill flow)
    "classifier": lambda ds, config: ClassifierSteps(ds, config.distill, config.prune),
    "lm_features": lambda ds, config: LmFeatureSteps(ds, FeatureStudentConfig(seed=config.distill.seed, **ds.student_options)),
}
PORTS = {  # PortSet.kind -> the steps of that device program (the port flow)
    "essay_writer": lambda ps, config: WriterSteps(ps, config.latency_texts),
    "prompt_writer": lambda ps, config: WriterSteps(ps, config.latency_texts),
    "science_answerer": lambda ps, config: AnswererSteps(ps, min(config.latency_texts, ANSWERER_LATENCY_QUESTIONS)),
}
ANSWERER_LATENCY_QUESTIONS = 5   # a causal LM per question: seconds each, not milliseconds


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
             experiment: str | None = None, log=print) -> EdgeReport:
    """The competition's edge spec, then the flow of its type (FLOWS): a report, the bundle, a deploy.
    The teacher's `options` (and the experiment they came from) are recorded in the report and the
    bundle's provenance."""
    if "edge_lm" in (options or {}):   # a port's LM variant, known before the teacher's minutes
        check_lm_variant(str(options["edge_lm"]))
    if device:   # a malformed user@host too (reaching it waits for the deploy, or for --pick-on-device)
        from edge.deploy.ssh import parse_target

        parse_target(device)
    config = config or edge_config(seed, fast)
    if not skip_deploy:   # an unsafe device root: one line now, not after the teacher's minutes
        from edge.deploy.lifecycle import device_root

        device_root(device, config.deploy_root if device else config.emulated_dir)
    out = Path(config.out_dir or repo_root() / "build" / "edge" / competition.slug)
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
    out.mkdir(parents=True, exist_ok=True)    # after the spec took the options: a refused one leaves no folder
    clear_last_run(out)    # a run stopped from here on leaves no report or bundle of the one before
    info = {"seed": seed, "fast": fast, "data_source": data.source,
            **({"options": dict(options)} if options else {}), **({"experiment": experiment} if experiment else {})}
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
        f"rounds{', texts filled to max_length' if config.latency_full_length else ''}), held-out score and accuracy")
    timed = min(config.latency_texts, getattr(steps, "max_latency_inputs", config.latency_texts))
    rows = compare_variants(steps.runners(files["fp32"], quantized), latency_inputs(ds, config, student_dir, timed),
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
              "config": jsonable(asdict(config)), "holdout_inputs": len(ds.holdout_inputs),
              "student": steps.describe(), "gates": {"max_int8_drop": max_drop, "teacher_gap": teacher_gap},
              "shipped": choice.label, "shipped_why": choice.why, "accuracy": accuracy,
              **({"picked_on_device": on_device} if on_device else {}),
              "rows": [asdict(r) for r in rows], **run.info},
    )
    save_report(report, out)  # written before shipping too, so a failed deploy keeps the numbers
    log("[7/7] bundle + deploy")
    provenance = provenance_of(report, steps, config)
    report.bundle = ship(report, lambda prov: steps.bundle(shipped, out / "bundle", prov), provenance, run)
    return report


def latency_inputs(ds: DistillSet, config: EdgeConfig, student_dir: Path, count: int) -> list:
    """The first `count` held-out inputs, or with config.latency_full_length held-out texts
    joined to fill the student's max_length."""
    if not config.latency_full_length:
        return list(ds.holdout_inputs[:count])
    if ds.pairs:
        raise UserError("full-length timing joins texts; this distill set's inputs are text pairs")
    return fill_to_length(list(ds.holdout_inputs), Path(student_dir) / "tokenizer.json", config.distill.max_length, count)


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
        f"({'within' if met else 'NOT within'} {teacher_gap:.4g}); {same} of {n} held-out outputs identical"
        + (f"; a written essay takes {timing['written_p50_ms'] / 1000:.1f} s (p50, 1 thread)" if "written_p50_ms" in timing else ""))
    scores = {"host": host_score, "device": device_score}
    report = EdgeReport(
        competition=run.competition.slug, teacher=ps.teacher, scores=scores, table=table, teacher_gap_met=met,
        files={"csv": str(save_csv(rows, out / "compare")), "latency_inputs": str(out / "latency_inputs.jsonl")},
        summary=(f"host {host_score:.4f} vs device {device_score:.4f} {ps.metric} (gap target met: {met}); "
                 f"{same}/{n} held-out outputs identical; {timing['p50_ms']:.3f} ms per input at batch 1, "
                 f"peak {_mb(timing.get('peak_rss_mb'))} MB"),
        info={"kind": steps.kind, "metric": ps.metric, "higher_is_better": ps.higher_is_better, "spec": ps.info,
              "config": jsonable(asdict(config)), "holdout_inputs": n, "identical_outputs": same,
              "student": steps.describe(), "bench": timing, "gates": {"teacher_gap": teacher_gap}, **run.info},
    )
    save_report(report, out)
    log("[4/4] bundle + deploy")
    provenance = provenance_of(report, steps, config)
    report.bundle = ship(report, lambda prov: steps.bundle(out / "bundle", prov), provenance, run)
    return report


def _mb(value) -> str:
    return "?" if value is None else f"{value:.1f}"


FLOWS = {DistillSet: run_distill, PortSet: run_port}
