"""`kllm bench encoder_fusions`: which onnxruntime fusions make the encoder student fastest at
batch 1, fp32 and dynamic int8, in one run.

    make bench BENCH=encoder_fusions
    python -m cli bench encoder_fusions --rounds 5 --texts 120 --student cache/edge_students/student-...

The detector's student (the model zoo's MiniLM cut to DistillConfig's layers, with a fresh
two-class head unless --student names a trained one: speed does not depend on the weights) is
exported once and fused three ways, each timed as ONNX fp32 and as the pipeline's dynamic int8:
- `skip-fused`: onnxruntime's BERT fusions with SkipLayerNormalization (the export before this
  benchmark);
- `shipped`: the same without SkipLayerNormalization, and the session told not to fuse it back
  (edge/classifier/export.py `fuse_for_cpu`, edge/runtime/classifier.py `encoder_session`);
- `attention-unfused`: also without the Attention fusion (Q, K and V stay MatMuls).
The int8 rows are the pipeline's dynamic int8 (edge/candidates.py: a scale per weight column);
the shipped arrangement is also quantized with one scale per weight matrix (`int8-per-tensor`,
the pipeline's quantizer before 2026-12-03), for what the column scales buy in fidelity (the
logit differences) and cost in time.
Latency is per text at batch 1, 1 thread, tokenization (`tokenizers`, as on the device) included,
over the detect-ai-text sample's first essays (72 tokens on average; `--full-length` joins
consecutive essays until each fills --max-length, as Kaggle's essays of hundreds of words do);
the six models are interleaved round by round and each ratio is the median of the per-round
ratios (min-max). Also prints each model's largest |logit difference| from `skip-fused` fp32
(and the mean) and, from onnxruntime's profiler, its costliest operators. Writes a PNG bar chart
(cache/bench/encoder_fusions.png, or encoder_fusions-full-length.png).
"""
from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

MAX_POSITIONS = 512   # the MiniLM students' position embeddings
ARRANGEMENTS = ("skip-fused", "shipped", "attention-unfused")
PRECISIONS = ("fp32", "int8", "int8-per-tensor")


def build_models(student: str | None, work: Path) -> tuple[dict[str, Path], Path]:
    """{"<arrangement> fp32|int8": path} (and "shipped int8-per-tensor") and the tokenizer.json,
    all under `work`."""
    from common.training.text_classifier import load_classifier
    from edge.classifier.distill import DistillConfig, load_student
    from edge.candidates import DEFAULT_QUANTIZERS
    from edge.classifier.export import cpu_fusion_options, export_onnx, fuse_for_cpu
    from edge.quantize import quantize_int8

    model, tokenizer = load_student(Path(student)) if student else load_classifier(DistillConfig(num_labels=2))
    raw = export_onnx(model, tokenizer, work / "export.onnx")
    tokenizer.save_pretrained(work / "tokenizer")
    heads, hidden = model.config.num_attention_heads, model.config.hidden_size
    models = {}
    for name in ARRANGEMENTS:
        options = cpu_fusion_options(attention=name != "attention-unfused")
        if name == "skip-fused":
            options.enable_skip_layer_norm = options.enable_bias_skip_layer_norm = True
        fp32 = fuse_for_cpu(raw, work / f"{name}.fp32.onnx", heads, hidden, options)
        models[f"{name} fp32"] = fp32
        models[f"{name} int8"] = DEFAULT_QUANTIZERS["onnx int8"].fn(fp32, work / f"{name}.int8.onnx")
    models["shipped int8-per-tensor"] = quantize_int8(models["shipped fp32"], work / "shipped.int8-pt.onnx")
    return models, work / "tokenizer" / "tokenizer.json"


def session(path: Path, profile_prefix: str | None = None):
    """1 thread; skip-fused with onnxruntime's default optimizers (which fuse what the file lacks),
    the others as the device opens them (edge/runtime/classifier.py encoder_session)."""
    import onnxruntime as ort

    from edge.runtime.classifier import ENCODER_DISABLED_OPTIMIZERS

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
    if profile_prefix:
        options.enable_profiling, options.profile_file_prefix = True, profile_prefix
    disabled = [] if path.name.startswith("skip-fused") else ENCODER_DISABLED_OPTIMIZERS
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled)


def load_tokenizer(tokenizer_file: Path, max_length: int):
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def make_runner(sess, tokenizer):
    import numpy as np

    def run(text: str):
        e = tokenizer.encode(text)
        feeds = {"input_ids": np.asarray([e.ids], np.int64), "attention_mask": np.asarray([e.attention_mask], np.int64),
                 "token_type_ids": np.asarray([e.type_ids], np.int64)}
        return sess.run(None, {k: v for k, v in feeds.items() if k in run.names})[0]

    run.names = {i.name for i in sess.get_inputs()}
    return run


def measure(models: dict[str, Path], tokenizer_file: Path, texts: list[str], rounds: int, max_length: int) -> list[dict]:
    import numpy as np
    from tqdm import tqdm

    tokenizer = load_tokenizer(tokenizer_file, max_length)
    runners = {name: make_runner(session(path), tokenizer) for name, path in models.items()}
    logits = {name: np.concatenate([run(t) for t in texts]) for name, run in runners.items()}
    p50 = {name: [] for name in runners}
    for _ in tqdm(range(rounds), desc="encoder fusions", unit="round"):
        for name, run in runners.items():
            times = []
            for text in texts:
                start = time.perf_counter()
                run(text)
                times.append(time.perf_counter() - start)
            p50[name].append(1000 * statistics.median(times))
    rows = []
    for name in runners:
        arrangement, precision = name.rsplit(" ", 1)
        own_fp32, shipped_fp32 = p50[f"{arrangement} fp32"], p50["shipped fp32"]
        vs_own = [f / q for f, q in zip(own_fp32, p50[name])]
        vs_shipped = [f / q for f, q in zip(shipped_fp32, p50[name])]
        rows.append({"arrangement": arrangement, "precision": precision, "p50_ms": statistics.median(p50[name]),
                     "p50_min": min(p50[name]), "p50_max": max(p50[name]),
                     "vs_own_fp32": statistics.median(vs_own), "own_min": min(vs_own), "own_max": max(vs_own),
                     "vs_shipped_fp32": statistics.median(vs_shipped), "shipped_min": min(vs_shipped),
                     "shipped_max": max(vs_shipped),
                     "max_logit_diff": float(np.abs(logits[name] - logits["skip-fused fp32"]).max()),
                     "mean_logit_diff": float(np.abs(logits[name] - logits["skip-fused fp32"]).mean())})
    return rows


def profile_ops(path: Path, tokenizer_file: Path, texts: list[str], max_length: int, top: int = 6) -> dict[str, float]:
    """The `top` operator types by kernel time, ms per text, from onnxruntime's profiler over one
    pass of `texts` (opened as `session` opens it)."""
    import json
    import os
    from collections import Counter

    sess = session(path, profile_prefix=str(path.with_suffix("")) + "-profile")
    run = make_runner(sess, load_tokenizer(tokenizer_file, max_length))
    for text in texts:
        run(text)
    trace = sess.end_profiling()
    kernels = Counter()
    for event in json.loads(Path(trace).read_text()):
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            kernels[event["args"]["op_name"]] += event["dur"]
    os.remove(trace)
    return {op: us / len(texts) / 1000 for op, us in kernels.most_common(top)}


def format_table(rows: list[dict]) -> str:
    lines = ["| fusions | precision | p50 ms (min-max) | x its own fp32 | x shipped fp32 | "
             "max |logit diff| vs skip-fused fp32 | mean |logit diff| |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['arrangement']} | {r['precision']} | {r['p50_ms']:.2f} ({r['p50_min']:.2f}-{r['p50_max']:.2f}) | "
                     f"{r['vs_own_fp32']:.2f}x ({r['own_min']:.2f}-{r['own_max']:.2f}) | "
                     f"{r['vs_shipped_fp32']:.2f}x ({r['shipped_min']:.2f}-{r['shipped_max']:.2f}) | "
                     f"{r['max_logit_diff']:.1e} | {r['mean_logit_diff']:.1e} |")
    return "\n".join(lines)


def save_chart(rows: list[dict], path: Path) -> Path:
    from bench._chart import save_line_chart

    def draw(ax):
        for offset, precision in zip((-0.27, 0.0, 0.27), PRECISIONS):
            mine = [r for r in rows if r["precision"] == precision]
            ax.bar([ARRANGEMENTS.index(r["arrangement"]) + offset for r in mine], [r["p50_ms"] for r in mine], 0.27,
                   label=precision, yerr=[[r["p50_ms"] - r["p50_min"] for r in mine],
                                          [r["p50_max"] - r["p50_ms"] for r in mine]])
        ax.set_xticks(range(len(ARRANGEMENTS)), ARRANGEMENTS)

    return save_line_chart(path, draw, "onnxruntime fusions in the file and the session",
                           "p50 ms per text, batch 1, 1 thread", "encoder student: fusions, fp32 and dynamic int8")


def main(args: list[str]) -> int:
    from bench._args import bench_parser
    from common.data import load_dataset
    from common.errors import UserError, path_arg
    from common.paths import cache_dir
    from common.registry import get_competition
    from edge.compare import fill_to_length

    parser = bench_parser("kllm bench encoder_fusions")
    parser.add_argument("--student", type=path_arg, default=None,
                        help="a trained student folder (HF format); default: a fresh head")
    parser.add_argument("--texts", type=int, default=120, help="sample essays timed per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--full-length", action="store_true",
                        help="join consecutive essays until each text fills --max-length tokens")
    opts = parser.parse_args(args)
    if opts.max_length > MAX_POSITIONS:
        parser.error(f"--max-length: the MiniLM students read at most {MAX_POSITIONS} tokens")
    if min(opts.texts, opts.rounds, opts.max_length) < 1:
        parser.error("--texts, --rounds and --max-length must be at least 1")
    if opts.student and not (Path(opts.student) / "config.json").is_file():
        raise UserError(f"--student: no model folder (config.json) at {opts.student}")
    competition = get_competition("detect-ai-text")
    essays = [str(t) for t in load_dataset(competition).tables["train"]["text"].to_list()]
    texts = essays[:opts.texts]
    with tempfile.TemporaryDirectory(prefix="encoder-fusions-") as work:
        models, tokenizer_file = build_models(opts.student, Path(work))
        if opts.full_length:
            texts = fill_to_length(essays, tokenizer_file, opts.max_length, opts.texts)
        rows = measure(models, tokenizer_file, texts, opts.rounds, opts.max_length)
        profiles = {name: profile_ops(path, tokenizer_file, texts, opts.max_length) for name, path in models.items()}
    print(f"encoder student ({opts.student or 'MiniLM cut to the student, fresh head'}): p50 ms per text at batch 1, "
          f"1 thread, tokenization included, {len(texts)} detect-ai-text sample essays"
          f"{f' joined to fill {opts.max_length} tokens' if opts.full_length else ''}, median of {opts.rounds} "
          f"interleaved rounds (min-max); ratios are medians of per-round ratios")
    print(format_table(rows))
    print("where the time goes (onnxruntime's profiler, one pass, kernel ms per text, top operators):")
    for name, ops in profiles.items():
        print(f"- {name}: " + ", ".join(f"{op} {ms:.2f}" for op, ms in ops.items()))
    chart = f"encoder_fusions{'-full-length' if opts.full_length else ''}.png"
    print(f"chart {save_chart(rows, cache_dir('bench') / chart)}")
    return 0
