"""`kllm bench quant`: the causal-LM compression study, one table and one chart from one run.

    make bench BENCH=quant                       # ~25 min the first time (exports, calibration)
    python -m cli bench quant --fast             # a smoke run: 2k held-out tokens, 1 round, 3 variants (study-fast/)

SmolLM2-135M exported to ONNX with its KV cache (edge/generator/export.py) as fp32, int8, int4 at
accuracy levels 4 and 1, int4 with an int8 head, asymmetric int4, k_quant, block 16, a
sensitivity-chosen mixed precision, structured block pruning (with and without int4) and 50% Wanda
sparsity; PyTorch fp32 beside them. Held-out text: the prompt-recovery sample's original passages
(no calibration step sees them). Calibration text: science-exam corpus passages that share no
opening with a held-out passage. Task score: science-exam's lm_no_retrieval MAP@3 on the sample's
100 test questions and hidden answers, per variant (--no-task skips it). Prints the table (speed as the median of --rounds rounds, with
the min-max), the parity of ONNX fp32 against PyTorch, and writes report.json and a PNG of speed
against perplexity with the Pareto front under cache/generator/study/.
"""
from __future__ import annotations

SEEDS_TABLE = """The seeds' anchor (DistilGPT-2 on a Pi 5, time to generate a fixed continuation):
| variant | time | speed-up | output |
|---|---|---|---|
| FP32 | 6.215 s | 1.00x | reference |
| int8 | 2.718 s | 2.29x | fine |
| int4 | 6.212 s | 1.00x | broken |
| adaptive precision | 6.220 s | 1.00x | broken |"""


def held_out_texts() -> list[str]:
    import polars as pl

    from common.data import load_dataset
    from common.registry import get_competition

    tables = load_dataset(get_competition("prompt-recovery")).tables
    texts = pl.concat([t.select("original_text") for t in tables.values() if "original_text" in t.columns])
    return texts["original_text"].unique(maintain_order=True).to_list()


def essay_texts() -> list[str]:
    """The detect-ai-text sample's essays (human and generated) but any that is also a prompt-recovery
    passage (one is): held-out text of another kind, for --held-out essays."""
    import polars as pl

    from common.data import load_dataset
    from common.registry import get_competition

    tables = load_dataset(get_competition("detect-ai-text")).tables
    texts = pl.concat([t.select("text") for t in tables.values() if "text" in t.columns])
    passages = set(held_out_texts())
    return [t for t in texts["text"].unique(maintain_order=True).to_list() if t and t.strip() and t not in passages]


HELD_OUT = {"prompt-recovery": held_out_texts, "essays": essay_texts}


def named_folders(names: list[str], model: str, held_out: list[str]) -> dict:
    """{name: exported folder} of edge/generator SHIPPABLE variants, the calibrated ones (SmoothQuant's,
    QAT's) from the study's own texts: calibration_texts(held_out), QAT's without a limit.

        named_folders(["fp32", "int8-smooth"], "smollm2", held_out_texts())
    """
    import functools

    from edge.generator.export import build_named
    from edge.generator.variants import DYNAMIC_SMOOTH, QAT_RECIPES, SMOOTH

    training = functools.cache(lambda: calibration_texts(held_out, limit=None))  # read once for every QAT variant
    smoothing = functools.cache(lambda: calibration_texts(held_out))
    texts = {SMOOTH: smoothing, DYNAMIC_SMOOTH: smoothing, **dict.fromkeys(QAT_RECIPES, training)}
    return {name: build_named(name, model, texts[name]() if name in texts else None) for name in names}


def calibration_texts(held_out: list[str], limit: int | None = 200) -> list[str]:
    """Science-exam corpus Wikipedia passages that share no 60-character opening with a held-out
    text, the first `limit` of them (None: all, QAT's training text)."""
    import polars as pl

    from common.data import load_dataset
    from common.errors import UserError
    from common.registry import get_competition

    path = load_dataset(get_competition("science-exam")).path / "corpus.parquet"
    if not path.exists():
        raise UserError(f"no calibration corpus: {path} is missing")
    corpus = pl.read_parquet(path)
    if "source" in corpus.columns:
        corpus = corpus.filter(pl.col("source") == "wikipedia")
    passages = corpus["text"].to_list()
    openings = [t[:60] for t in held_out]
    chosen = []
    for text in passages:
        if len(text) > 200 and not any(o in text for o in openings) and not any(text[:60] in h for h in held_out):
            chosen.append(text)
            if limit and len(chosen) >= limit:
                break
    return chosen


def fake_quant_windows(model_name: str, eval_tokens: int, calibration_tokens: int) -> tuple[list, list]:
    """(held-out token windows, calibration token windows) of the study's texts, for the PyTorch
    fake-quantization benchmarks (int4_blocks, q41_leftover)."""
    from edge.generator.calibrate import token_windows
    from edge.generator.export import build_variant
    from edge.generator.variants import VARIANTS
    from edge.runtime.causal_lm import CausalLM

    from bench._args import note_short_text

    encode = CausalLM(build_variant(VARIANTS["fp32"], model_name)).encode
    held_out = held_out_texts()
    windows = (token_windows(encode, held_out, eval_tokens), token_windows(encode, calibration_texts(held_out), calibration_tokens))
    note_short_text(windows[0], eval_tokens, "--eval-tokens")
    note_short_text(windows[1], calibration_tokens, "--calibration-tokens")
    return windows


def science_task():
    """science-exam's `lm_no_retrieval` on the sample's test questions and hidden answers (None, with
    a line saying why, when the data has no test_labels.csv)."""
    from pathlib import Path

    from common.data import load_dataset
    from common.registry import get_competition
    from competitions.science_exam.edge import test_labels
    from competitions.science_exam.lm_step import build_prefix
    from competitions.science_exam.questions import Questions
    from edge.generator.task import OptionTask

    data = load_dataset(get_competition("science-exam"))
    if not (Path(data.path) / "test_labels.csv").is_file():
        print(f"no task column: {data.path} has no test_labels.csv")
        return None
    test = Questions.from_frame(data.tables["test"], "test.csv")
    return OptionTask("science-exam lm_no_retrieval", [build_prefix(p, None) for p in test.prompts],
                      test.options, test_labels(data, test))


FAST_SETS = ("eval_tokens", "calibration_tokens", "rounds", "mixed_layers", "prune_blocks", "variants", "derived")
PROFILED = ("fp32", "int8", "int4", "int4-b128", "int4-q41", "int4-q41-fold")
# run only when named: int8 weights with fp32 compute decode at ~0.1x fp32 (no fast kernel);
# int4-q41-fold1, int8-b128, int4-b64, int4-q41-fold-head4 and int4-gateup are side measurements (one digit
# for the offsets; int8's speed in blocks of 128, whose agreement falls below 0.95; int4's middle block, for
# bench int4_blocks; the fold with an int4 LM head, agreement 0.773; int4 with gate and up in one kernel, no
# faster)
OPT_IN = ("int8-acc1", "int4-q41-fold1", "int8-b128", "int4-b64", "int4-q41-fold-head4", "int4-gateup",
          "int4-asym-head8")


def decode_profiles(names: list[str], model: str) -> dict[str, dict]:
    """edge/generator/profile.py on the named variants (their cached exports)."""
    from edge.generator.export import build_variant
    from edge.generator.profile import decode_profile
    from edge.generator.variants import VARIANTS

    return {n: decode_profile(build_variant(VARIANTS[n], model)) for n in names}


def main(args: list[str]) -> int:
    import dataclasses
    import json

    from bench._args import bench_parser
    from common.atomic import atomic_write_text
    from common.errors import UserError
    from common.paths import cache_dir
    from edge.generator.measure import cpu_summary
    from edge.generator.profile import format_profiles
    from edge.generator.study import StudyConfig, derived_names, run_study
    from edge.generator.variants import QAT_RECIPES, VARIANTS

    parser = bench_parser("kllm bench quant")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--eval-tokens", type=int, default=20480)
    parser.add_argument("--calibration-tokens", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--mixed-layers", default="2,4",
                        help="int8 layer counts of the mixed-precision variants (comma-separated; empty: none)")
    parser.add_argument("--prune-blocks", type=int, default=4)
    default = [n for n in VARIANTS if n not in OPT_IN]
    parser.add_argument("--variants", default=",".join(default),
                        help=f"comma-separated uniform variants (default: all but {', '.join(OPT_IN)})")
    parser.add_argument("--derived", default="all",
                        help="calibrated variants to run: all, none, or comma-separated names (int4-mixed2, "
                             "fp32-pruned, int4-pruned, fp32-wanda50, int8-smooth, int8-dynamic-smooth; "
                             f"{', '.join(QAT_RECIPES)}: int4 trained on its grid for 25-60 minutes, only "
                             "when named)")
    parser.add_argument("--held-out", choices=sorted(HELD_OUT), default="prompt-recovery",
                        help="held-out text scored: the prompt-recovery sample's passages (default) or the "
                             "detect-ai-text sample's essays; calibration text stays the same")
    parser.add_argument("--fast", action="store_true", help="2k held-out tokens, 1 round, fp32/int8/int4")
    parser.add_argument("--no-task", action="store_true",
                        help="skip the task column (science-exam lm_no_retrieval MAP@3 on the sample's test questions)")
    opts = parser.parse_args(args)
    names = tuple(n for n in opts.variants.split(",") if n)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown or "fp32" not in names:
        parser.error(f"--variants must include fp32 and name only {', '.join(VARIANTS)}; got {opts.variants}")
    try:
        mixed_layers = tuple(int(c) for c in opts.mixed_layers.split(",") if c)
    except ValueError:
        parser.error(f"--mixed-layers takes comma-separated counts; got {opts.mixed_layers}")
    if min(opts.eval_tokens, opts.calibration_tokens) < 64 or min(opts.rounds, opts.prune_blocks, *mixed_layers) < 1:
        parser.error("--eval-tokens and --calibration-tokens must be at least 64; --rounds, --prune-blocks and "
                     "each --mixed-layers count at least 1")
    config = StudyConfig(model=opts.model, eval_tokens=opts.eval_tokens, calibration_tokens=opts.calibration_tokens,
                         rounds=opts.rounds, mixed_layers=mixed_layers, prune_blocks=opts.prune_blocks,
                         variants=names, derived=opts.derived != "none")
    if opts.derived not in ("all", "none"):
        derived = tuple(n for n in opts.derived.split(",") if n)
        known = derived_names(config)
        if not derived or any(n not in known for n in derived):
            parser.error(f"--derived takes all, none or names from {', '.join(known)}; got {opts.derived}")
        config = dataclasses.replace(config, derived_only=derived)
    if opts.fast:
        overridden = [f"--{dest.replace('_', '-')}" for dest in FAST_SETS
                      if getattr(opts, dest) != parser.get_default(dest)]
        if overridden:
            parser.error(f"--fast sets its own variants, rounds and token counts: drop {', '.join(overridden)}")
        config = StudyConfig(model=opts.model, eval_tokens=2048, calibration_tokens=512, rounds=1,
                             variants=("fp32", "int8", "int4"), derived=False)
    passages = held_out_texts()
    calibration = calibration_texts(passages)
    held_out = HELD_OUT[opts.held_out]()
    if any(c[:60] in h for c in calibration for h in held_out):
        raise UserError(f"--held-out {opts.held_out}: a text shares a passage with the calibration text")
    task = None if opts.no_task or opts.fast else science_task()
    # a smoke run, or one on chosen variants, writes beside the full study, not over its report and chart
    chosen = (opts.variants != parser.get_default("variants") or opts.derived != "all"
              or opts.held_out != parser.get_default("held_out"))
    out_dir = cache_dir("generator") / ("study-fast" if opts.fast else "study-subset" if chosen else "study")
    training = calibration_texts(passages, limit=None) if set(QAT_RECIPES) & set(config.derived_only) else None
    if training and any(t[:60] in h for t in training for h in held_out):
        raise UserError(f"--held-out {opts.held_out}: a text shares a passage with the QAT training text")
    report = run_study(held_out, calibration, config, out_dir=out_dir, task=task, training_texts=training)
    print(f"compression study: {opts.model}, {report.rows[0]['tokens']} held-out tokens ({opts.held_out} sample "
          f"texts), speed median of {config.rounds} rounds (min-max), this CPU: {cpu_summary()}")
    print(report.table)
    if task is not None:
        fp32 = next(r for r in report.rows if r["variant"] == "fp32")["task"]
        print(f"task MAP@3: {task.name}, {len(task.prefixes)} test questions of the science-exam sample "
              "(hidden answers), mean option log-likelihood after the question, no retrieval; in brackets the "
              f"questions whose top three letters differ from ONNX fp32's (fp32's MAP@3 has a standard error of "
              f"{fp32['se']:.3f} over these questions: differences below that are noise)")
    p = report.parity
    print(f"parity ONNX fp32 vs PyTorch on {len(p['prompts'])} prompts: max |logprob diff| "
          f"{p['max_abs_logprob_diff']:.2e}, greedy tokens identical: {p['greedy_same']}")
    worst = sorted(range(len(report.sensitivity)), key=lambda i: -report.sensitivity[i])[:5]
    if worst:                   # measured only for the derived variants
        print("int4 sensitivity (NLL increase, calibration): " +
              ", ".join(f"layer {i} +{report.sensitivity[i]:.4f}" for i in worst))
    low = sorted(range(len(report.influence)), key=lambda i: report.influence[i])[:6]
    if low:
        print("lowest block influence: " + ", ".join(f"block {i} {report.influence[i]:.4f}" for i in low))
    print(f"memory bandwidth per round: read {', '.join(f'{b:.1f}' for b in report.read_bandwidth_gb_s)} GB/s "
          f"(numpy sums at {max(config.threads)} threads: the roofline column's denominator); copy "
          f"{', '.join(f'{b:.1f}' for b in report.bandwidth_gb_s)} GB/s (1 thread, read + written)")
    profiles = decode_profiles([n for n in PROFILED if n in config.variants], opts.model)
    print("where a decode token's time goes (ms per token, 1 thread, onnxruntime's profiler, 64-token continuation):")
    print(format_profiles(profiles))
    atomic_write_text(report.files["json"].parent / "decode_profile.json", json.dumps(profiles, indent=1))
    print(SEEDS_TABLE)
    print(f"chart {report.files['png']}; report {report.files['json']}")
    return 0
