"""The compression study of a causal LM: every variant exported, measured and tabled in one run.

    from edge.generator.study import StudyConfig, run_study
    report = run_study(eval_texts, calibration_texts, StudyConfig())   # bench/quant.py supplies texts
    print(report.table); report.files["png"]

Steps: (1) export the uniform variants (edge/generator/export.py, cached); (2) on the calibration
texts only, measure each decoder layer's int4 sensitivity and each block's influence
(edge/generator/calibrate.py, cached) and derive the sensitivity-chosen mixed-precision variant, the
block-pruned variants (without and with int4 on top) and the 50% Wanda one (and, asked for by name,
variants.QAT_RECIPES: int4 trained on its own grid, edge/generator/qat.py, on `training_texts`); (3)
teacher-forced quality on the held-out texts: perplexity, and next-token agreement with ONNX fp32;
parity of ONNX fp32 against PyTorch; (4) speed: each variant's runtime benchmark
(edge/runtime/generate.py --bench) in its own process, the variants interleaved round by round so
machine load hits them alike;
ratios to ONNX fp32 are the median over rounds with their min-max; each round measures the memory
bandwidth of reading at the decode's thread count (numpy sums: the roofline share of decode) and
of a 1-thread numpy copy (the denominator of runs before 2026-12-04, kept as roofline_copy).
"""
from __future__ import annotations

import dataclasses
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.atomic import atomic_write_text
from common.errors import UserError
from common.paths import cache_dir
from edge.generator.export import build_variant, size_mb
from edge.generator.measure import (copy_bandwidth_gb_s, cpu_summary, median_spread, read_bandwidth_gb_s, runtime_bench,
                                    torch_bench, weight_bytes_per_token)
from edge.generator.study_table import format_table, save_chart
from edge.generator.variants import (QAT_RECIPES, SMOOTH_ALPHA, VARIANTS, Variant, dynamic_smooth_variant, qat_variant,
                                     smooth_variant)

PARITY_PROMPTS = ("The history of the Roman Empire began when",
                  "Question: Which gas do plants release during photosynthesis?\nAnswer:",
                  "def fibonacci(n):")


@dataclass
class StudyConfig:
    """model: zoo name. eval_tokens: held-out tokens scored per variant. calibration_tokens: tokens
    for sensitivity and block influence. mixed_layers: for each count, a mixed variant with
    that many of the most int4-sensitive decoder layers kept int8. prune_blocks: decoder blocks
    removed. wanda: unstructured sparsity of the Wanda row. smooth: SmoothQuant's alpha of the
    int8-smooth and int8-dynamic-smooth rows.
    rounds: speed measurements per variant (median, min-max). new_tokens / prompt_tokens: the
    decode and prefill lengths. threads: thread counts timed. variants: uniform variants to run.
    derived: also the calibrated variants (mixed precision, pruning, Wanda, smoothing); derived_only:
    only those of them (names from derived_names; empty: all)."""

    model: str = "smollm2"
    eval_tokens: int = 20480
    calibration_tokens: int = 1024
    mixed_layers: tuple[int, ...] = (2, 4)
    prune_blocks: int = 4
    wanda: float = 0.5
    smooth: float = SMOOTH_ALPHA
    rounds: int = 3
    new_tokens: int = 64
    prompt_tokens: int = 300
    threads: tuple[int, ...] = (1, 2)
    variants: tuple[str, ...] = tuple(VARIANTS)
    derived: bool = True
    derived_only: tuple[str, ...] = ()

    def __post_init__(self):
        counts = (self.rounds, self.prune_blocks, *self.mixed_layers, *self.threads)
        if (min(self.eval_tokens, self.calibration_tokens) < 64 or min(counts) < 1 or not self.threads
                or self.new_tokens < 2 or self.prompt_tokens < 16 or not 0 < self.wanda < 1 or not 0 <= self.smooth <= 1):
            raise UserError("study: eval and calibration tokens at least 64; rounds, prune blocks, mixed layers and "
                            "threads at least 1; new tokens at least 2, prompt tokens at least 16; 0 < wanda < 1, "
                            "0 <= smooth <= 1")


@dataclass
class StudyReport:
    rows: list[dict]
    table: str
    parity: dict
    sensitivity: list[float]
    influence: list[float]
    bandwidth_gb_s: list[float]                  # 1-thread numpy copy, bytes read + written
    read_bandwidth_gb_s: list[float] = field(default_factory=list)   # reading alone, the decode's threads
    files: dict[str, Path] = field(default_factory=dict)


def _cached_json(name: str, compute):
    path = cache_dir("generator") / "calibration" / f"{name}.json"
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    atomic_write_text(path, json.dumps(value))
    return value


# derived variants built only when named (`derived_only`): each QAT trains for 25-60 minutes on 2 cores
DERIVED_OPT_IN = tuple(QAT_RECIPES)


def derived_names(config: StudyConfig) -> list[str]:
    """The names derived_variants gives under `config`."""
    return [f"int4-mixed{count}" for count in config.mixed_layers] + ["fp32-pruned", "int4-pruned", "fp32-wanda50",
                                                                      "int8-smooth", "int8-dynamic-smooth",
                                                                      *DERIVED_OPT_IN]


def check_prune_blocks(prune_blocks: int, blocks: int) -> None:
    """A UserError when pruning would remove the first or last of the model's `blocks` decoder blocks."""
    if prune_blocks > blocks - 2:
        raise UserError(f"prune blocks {prune_blocks}: the model has {blocks} blocks and keeps its first "
                        f"and last, so at most {blocks - 2} can go")


def derived_variants(sensitivity: list[float], influence: list[float], config: StudyConfig,
                     calibration: str, training: str = "") -> list[Variant]:
    """Mixed precision (the most sensitive layers at int8), block pruning (the least influential
    blocks, never the first or last), without and with int4, unstructured Wanda sparsity, and
    int8 (the builder's and the dynamic one) after SmoothQuant; the QAT variants (trained on the texts
    whose texts_id is `training`) only when config.derived_only names them."""
    ranked = [int(i) for i in np.argsort(sensitivity)[::-1]]
    check_prune_blocks(config.prune_blocks, len(influence))
    inner = np.argsort(influence[1:-1]) + 1
    drop = tuple(sorted(int(i) for i in inner[:config.prune_blocks]))
    int4 = VARIANTS["int4"]
    mixed = [int4.with_(name=f"int4-mixed{count}", int8_layers=tuple(sorted(ranked[:count])),
                        note=f"int4, the {count} most int4-sensitive layers int8: {sorted(ranked[:count])}")
             for count in config.mixed_layers]
    qat = [qat_variant(training, name) for name in QAT_RECIPES if name in config.derived_only]
    return mixed + qat + [
        VARIANTS["fp32"].with_(name="fp32-pruned", drop_layers=drop,
                               note=f"fp32, {len(drop)} lowest-influence blocks removed: {list(drop)}"),
        int4.with_(name="int4-pruned", drop_layers=drop, note=f"int4 of the pruned model (blocks {list(drop)} removed)"),
        VARIANTS["fp32"].with_(name="fp32-wanda50", sparsity=config.wanda, calibration=calibration,
                               note=f"fp32, Wanda {config.wanda:.0%} unstructured sparsity"),
        smooth_variant(calibration, config.smooth),
        dynamic_smooth_variant(calibration, config.smooth),
    ]


def run_study(eval_texts: list[str], calibration_texts: list[str], config: StudyConfig | None = None,
              out_dir: Path | None = None, log=print, task=None, training_texts: list[str] | None = None) -> StudyReport:
    """task: an edge.generator.task.OptionTask whose MAP@3 each variant gets (None: no task column).
    training_texts: the QAT variants' training text (needed when config.derived_only names one)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from common.models import causal_lm_path, model_fingerprint
    from common.threads import default_threads
    from edge.generator.calibrate import block_influence, layer_sensitivity, texts_id, token_windows
    from edge.generator.quality import (cached_npz, pytorch_parity, teacher_forced, torch_teacher_forced,
                                        windows_id)
    from edge.runtime.causal_lm import CausalLM

    config = config or StudyConfig()
    if config.derived and set(QAT_RECIPES) & set(config.derived_only) and not training_texts:
        raise UserError("study: the QAT variants need training texts")
    out_dir = Path(out_dir or cache_dir("generator") / "study")
    hf = causal_lm_path(config.model)
    if config.derived:                 # before any export or measurement, not after the block influence
        check_prune_blocks(config.prune_blocks, json.loads((Path(hf) / "config.json").read_text())["num_hidden_layers"])
    specs = {name: VARIANTS[name] for name in config.variants}
    folders = {name: build_variant(spec, config.model, log=log) for name, spec in specs.items()}
    encode = CausalLM(folders["fp32"]).encode
    eval_windows = token_windows(encode, eval_texts, config.eval_tokens)
    calib_windows = token_windows(encode, calibration_texts, config.calibration_tokens)
    calibration = texts_id(calibration_texts)
    log(f"study: {sum(map(len, eval_windows))} held-out tokens in {len(eval_windows)} windows "
        f"(asked for {config.eval_tokens}); {sum(map(len, calib_windows))} calibration tokens "
        f"(asked for {config.calibration_tokens})")

    torch.set_num_threads(default_threads())
    model = AutoModelForCausalLM.from_pretrained(hf, dtype=torch.float32).eval()
    key = f"{config.model}-{model_fingerprint(config.model)}-{calibration}-{config.calibration_tokens}"
    sensitivity, influence = [], []
    if config.derived:
        sensitivity = _cached_json(f"sensitivity-{key}", lambda: layer_sensitivity(model, calib_windows, log=log))
        influence = _cached_json(f"influence-{key}", lambda: block_influence(model, calib_windows))
        training = texts_id(training_texts) if training_texts else ""
        for variant in derived_variants(sensitivity, influence, config, calibration, training):
            if config.derived_only and variant.name not in config.derived_only:
                continue
            specs[variant.name] = variant
            texts = training_texts if variant.qat else calibration_texts
            folders[variant.name] = build_variant(variant, config.model, texts, log=log)

    log("study: teacher-forced quality on the held-out windows")
    ref = teacher_forced(folders["fp32"], eval_windows)
    quality = {"pytorch fp32": cached_npz(f"pytorch-{key}-{windows_id(eval_windows)}",
                                          lambda: torch_teacher_forced(model, eval_windows))}
    for name, folder in folders.items():
        log(f"study: quality of {name}")
        quality[name] = teacher_forced(folder, eval_windows)
    parity = pytorch_parity(hf, folders["fp32"], list(PARITY_PROMPTS))
    task_scores = {}
    if task is not None:
        from edge.generator.task import onnx_option_scores, task_row, torch_option_scores

        log(f"study: {task.name}, MAP@3 on {len(task.prefixes)} questions")
        scores = {"pytorch fp32": torch_option_scores(config.model, task),
                  **{name: onnx_option_scores(folder, task) for name, folder in folders.items()}}
        task_scores = {name: task_row(s, scores["fp32"], task.answers) for name, s in scores.items()}

    log(f"study: speed, {config.rounds} rounds over {len(folders) + 1} variants, threads {config.threads}")
    speed: dict[str, list[dict]] = {name: [] for name in ["pytorch fp32", *folders]}
    bandwidth, read_bandwidth = [], []
    tokenizer = AutoTokenizer.from_pretrained(hf)
    for r in range(config.rounds):
        bandwidth.append(copy_bandwidth_gb_s())
        read_bandwidth.append(read_bandwidth_gb_s(max(config.threads)))
        speed["pytorch fp32"].append(torch_bench(model, tokenizer, config))
        for name, folder in folders.items():
            speed[name].append(runtime_bench(folder, config))
        log(f"study: round {r + 1}/{config.rounds} done (read bandwidth {read_bandwidth[-1]:.1f} GB/s, "
            f"copy {bandwidth[-1]:.1f})")
    torch.set_num_threads(default_threads())

    rows = _rows(specs, folders, quality, ref, speed, {"read": read_bandwidth, "copy": bandwidth}, config)
    for row in rows:
        row["task"] = task_scores.get(row["variant"])
    table = format_table(rows, config)
    report = StudyReport(rows, table, parity, sensitivity, influence, bandwidth, read_bandwidth)
    out_dir.mkdir(parents=True, exist_ok=True)
    report.files["json"] = atomic_write_text(out_dir / "report.json", json.dumps(
        {"config": dataclasses.asdict(config), "cpu": cpu_summary(), "rows": rows, "parity": parity,
         "sensitivity": sensitivity, "influence": influence, "bandwidth_gb_s": bandwidth,
         "read_bandwidth_gb_s": read_bandwidth,
         "task": None if task is None else {"name": task.name, "questions": len(task.prefixes), "id": task.id},
         "variants": {n: dataclasses.asdict(v) for n, v in specs.items()}}, indent=1, default=str))
    report.files["png"] = save_chart(rows, out_dir / "speed_vs_perplexity.png")
    return report


def _rows(specs, folders, quality, ref, speed, bandwidth: dict[str, list[float]], config) -> list[dict]:
    """One row per variant. bandwidth: {"read": GB/s per round, "copy": GB/s per round}; the
    roofline share divides decode's weight reads per second by the median read bandwidth
    (roofline_copy: by the copy bandwidth, as runs before read bandwidth was measured did)."""
    from edge.generator.quality import compare

    base = compare(quality["fp32"], ref)["perplexity"]
    rows = []
    fast = max(config.threads)
    for name in speed:
        runs = speed[name]
        per = {}
        for n in config.threads:
            pick = [next(x for x in run["rows"] if x["threads"] == n) for run in runs]
            per[n] = {k: [p[k][0] for p in pick] for k in ("prefill_tok_s", "decode_tok_s", "wall_s")}
        ratios = [next(x for x in run["rows"] if x["threads"] == fast)["decode_tok_s"][0] /
                  next(x for x in fp["rows"] if x["threads"] == fast)["decode_tok_s"][0]
                  for run, fp in zip(runs, speed["fp32"])]
        q = compare(quality[name], ref)
        row = {"variant": name, "note": specs[name].note if name in specs else "transformers, fp32",
               "size_mb": size_mb(folders[name]) if name in folders else None,
               "prefill_tok_s": statistics.median(per[fast]["prefill_tok_s"]),
               **{f"decode_tok_s_{n}t": median_spread(per[n]["decode_tok_s"]) for n in config.threads},
               "wall_64_s": statistics.median(per[fast]["wall_s"]),
               "decode_ratio": median_spread(ratios),
               "peak_rss_mb": max((x["peak_rss_mb"] for run in runs for x in run["rows"] if "peak_rss_mb" in x),
                                  default=None),
               "perplexity": q["perplexity"], "perplexity_delta": q["perplexity"] / base - 1,
               "agreement": q["agreement"], "tokens": q["tokens"]}
        if name in folders:
            bytes_per_token = weight_bytes_per_token(folders[name])
            row["weight_mb_per_token"] = bytes_per_token / 1e6
            reads = row[f"decode_tok_s_{fast}t"][0] * bytes_per_token / 1e9          # GB/s of weights
            row["roofline"] = reads / statistics.median(bandwidth["read"])
            row["roofline_copy"] = reads / statistics.median(bandwidth["copy"])
        rows.append(row)
    return rows
