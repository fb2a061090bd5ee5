"""`kllm bench int4_blocks`: is there an intact int4 at the blocks onnxruntime's int4 kernel runs fastest?

    make bench BENCH=int4_blocks
    python -m cli bench int4_blocks --specs rtn-b128-sym,gptq-b128-asym --rounds 3 --eval-tokens 8192

The compression study's intact int4 (int4-q41-fold) keeps the weights' own GGUF Q4_1 grid, blocks
of 32. Larger blocks make MatMulNBits cheaper (fewer scales per dot product), but they leave that
grid, so the weights are rounded a second time. This benchmark puts both sides in one run:
- speed: the builder's RTN int4 at blocks 32, 64 and 128 (variants int4, int4-b64, int4-b128),
  greedy decode tok/s against ONNX fp32 at 1 and 2 threads, rounds interleaved, each ratio the
  median of the rounds' ratios (min-max);
- quality: every decoder Linear fake-quantized in PyTorch (edge/generator/gptq.py) by
  round-to-nearest or GPTQ, symmetric or asymmetric, at each block; perplexity and next-token
  agreement with PyTorch fp32 on held-out tokens (the study's prompt-recovery sample passages),
  GPTQ calibrated on science-exam Wikipedia passages (the study's calibration texts). The LM head
  and embedding stay fp32 and activations are not quantized, so these are upper bounds on what
  an export at that block could keep.
Quality results are cached by spec, model and token windows (cache/generator/quality/); the table,
report.json and a chart (agreement against speed-up) go to cache/generator/study/int4_blocks.*.
"""
from __future__ import annotations

import dataclasses
import statistics

BLOCK_VARIANTS = {32: "int4", 64: "int4-b64", 128: "int4-b128"}
# GPTQ only where RTN leaves the grid's blocks: at 32 the study's int4-q41-fold is already exact
DEFAULT_SPECS = ",".join([f"rtn-b{b}-{k}" for b in BLOCK_VARIANTS for k in ("sym", "asym")] +
                         [f"gptq-b{b}-{k}" for b in (64, 128) for k in ("sym", "asym")])


def quality_rows(model_name: str, specs, eval_windows, calib_windows, log=print) -> tuple[dict, list[dict]]:
    """(fp32 reference, one row per spec: perplexity, its change, agreement, tokens)."""
    from tqdm import tqdm

    from edge.generator.gptq import quantize_model
    from edge.generator.quality import cached_npz, compare, torch_reference, torch_teacher_forced, windows_id

    model, saved, key, ref = torch_reference(model_name, eval_windows)
    base = compare(ref, ref)
    rows = []
    for spec in specs:
        def compute(spec=spec):
            model.load_state_dict(saved)
            layers = len(model.model.layers)
            with tqdm(total=layers, desc=spec.name, unit="layer", leave=False) as bar:
                quantize_model(model, spec, calib_windows if spec.method == "gptq" else None, progress=bar.update)
            return torch_teacher_forced(model, eval_windows)

        calib = windows_id(calib_windows) if spec.method == "gptq" else "none"
        got = cached_npz(f"fake-{spec.name}-d{spec.damp}-{key}-{calib}", compute)
        q = compare(got, ref)
        rows.append({**dataclasses.asdict(spec), "name": spec.name, **q,
                     "perplexity_delta": q["perplexity"] / base["perplexity"] - 1})
        log(f"int4_blocks: {spec.name} perplexity {q['perplexity']:.2f} agreement {q['agreement']:.4f}")
    model.load_state_dict(saved)
    return base, rows


def speed_rows(model_name: str, blocks: list[int], threads: tuple[int, ...], rounds: int) -> dict[int, dict]:
    """{block: {threads: (median, min, max) decode speed-up over ONNX fp32, "tok_s": {threads: median}}}."""
    from edge.generator.export import build_variant
    from edge.generator.measure import runtime_bench
    from edge.generator.study import StudyConfig
    from edge.generator.variants import VARIANTS

    config = StudyConfig(model=model_name, threads=threads, rounds=rounds)
    folders = {b: build_variant(VARIANTS[BLOCK_VARIANTS[b]], model_name) for b in blocks}
    folders[0] = build_variant(VARIANTS["fp32"], model_name)
    runs: dict[int, list[dict]] = {b: [] for b in folders}
    for _ in range(rounds):
        for b, folder in folders.items():
            rows = runtime_bench(folder, config)["rows"]
            runs[b].append({r["threads"]: r["decode_tok_s"][0] for r in rows})
    out = {}
    for b in blocks:
        out[b] = {n: _spread([run[n] / fp[n] for run, fp in zip(runs[b], runs[0])]) for n in threads}
        out[b]["tok_s"] = {n: statistics.median(run[n] for run in runs[b]) for n in threads}
    out[0] = {"tok_s": {n: statistics.median(run[n] for run in runs[0]) for n in threads}}
    return out


def _spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def format_table(rows: list[dict], speed: dict[int, dict], threads: tuple[int, ...]) -> str:
    kinds = [(m, s) for m in ("rtn", "gptq") for s in (True, False)
             if any(r["method"] == m and r["symmetric"] == s for r in rows)]
    head = ["block", *[f"decode vs fp32, {n}t" for n in threads],
            *[f"{m.upper()} {'sym' if s else 'asym'}: ppl / agreement" for m, s in kinds]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for block in sorted({r["block"] for r in rows} | {b for b in speed if b}):
        cells = [str(block)]
        for n in threads:
            s = speed.get(block, {}).get(n)
            cells.append(f"{s[0]:.2f}x ({s[1]:.2f}-{s[2]:.2f})" if s else "-")
        for m, sym in kinds:
            r = next((r for r in rows if r["block"] == block and r["method"] == m and r["symmetric"] == sym), None)
            cells.append(f"{r['perplexity']:.2f} ({r['perplexity_delta']:+.1%}) / {r['agreement']:.3f}" if r else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_chart(rows: list[dict], speed: dict[int, dict], thread: int, path):
    from bench._chart import save_line_chart

    def draw(ax):
        for m, marker in (("rtn", "o"), ("gptq", "s")):
            for sym, color in ((True, "tab:blue"), (False, "tab:orange")):
                mine = sorted((r for r in rows if r["method"] == m and r["symmetric"] == sym and r["block"] in speed),
                              key=lambda r: r["block"])
                if not mine:
                    continue
                xs = [speed[r["block"]][thread][0] for r in mine]
                ax.plot(xs, [r["agreement"] for r in mine], marker=marker, color=color, ls="-" if m == "gptq" else ":",
                        label=f"{m.upper()} {'sym' if sym else 'asym'}")
                for x, r in zip(xs, mine):
                    ax.annotate(f"b{r['block']}", (x, r["agreement"]), xytext=(4, 4), textcoords="offset points", fontsize=7)
        ax.axhline(0.90, color="grey", lw=0.8, ls="--")
        ax.axvline(4.0, color="grey", lw=0.8, ls="--")

    return save_line_chart(path, draw, f"decode speed-up over ONNX fp32, {thread} thread(s), builder RTN int4 at that block",
                           "next-token agreement with fp32 (fake quant)",
                           "int4 block size: speed vs staying intact (target: >= 4x, >= 0.90)",
                           figsize=(7, 4.5))


def main(args: list[str]) -> int:
    import json

    from bench._args import bench_parser, check_threads
    from bench.quant import fake_quant_windows
    from common.atomic import atomic_write_text
    from common.paths import cache_dir
    from edge.generator.gptq import QuantSpec
    from edge.generator.measure import cpu_summary

    parser = bench_parser("kllm bench int4_blocks")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--specs", default=DEFAULT_SPECS, help="comma-separated METHOD-bBLOCK-KIND: rtn|gptq, sym|asym")
    parser.add_argument("--eval-tokens", type=int, default=8192)
    parser.add_argument("--calibration-tokens", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    opts = parser.parse_args(args)
    try:
        specs = [QuantSpec.parse(s) for s in opts.specs.split(",") if s]
        threads = tuple(int(t) for t in opts.threads.split(",") if t)
    except ValueError:
        parser.error(f"--specs takes e.g. rtn-b128-sym,gptq-b64-asym (blocks: powers of 2 from 16) and --threads "
                     f"comma-separated integers; got {opts.specs!r}, {opts.threads!r}")
    if not specs or not threads or min(threads) < 1 or opts.rounds < 1 or min(opts.eval_tokens,
                                                                               opts.calibration_tokens) < 64:
        parser.error("--specs, --threads and --rounds need at least one; token counts at least 64")
    check_threads(parser, threads)
    eval_windows, calib_windows = fake_quant_windows(opts.model, opts.eval_tokens, opts.calibration_tokens)
    base, rows = quality_rows(opts.model, specs, eval_windows, calib_windows)
    blocks = sorted({s.block for s in specs if s.block in BLOCK_VARIANTS})
    speed = speed_rows(opts.model, blocks, threads, opts.rounds) if blocks else {}
    table = format_table(rows, speed, threads)
    gptq = (f", GPTQ calibrated on {sum(map(len, calib_windows))} tokens of science-exam Wikipedia passages"
            if any(spec.method == "gptq" for spec in specs) else "")
    timed = (f"; speed of the builder's RTN int4 at each block, median of {opts.rounds} interleaved rounds (min-max)"
             if speed else "; no speed (no block of 32, 64 or 128 asked for)")
    print(f"int4 block size: {opts.model}, quality on {base['tokens']} held-out tokens (prompt-recovery sample "
          f"passages; PyTorch fp32 perplexity {base['perplexity']:.2f}){gptq}{timed}; this CPU: {cpu_summary()}")
    print(table)
    fp = speed.get(0, {}).get("tok_s", {})
    if fp:
        print("ONNX fp32 decode tok/s: " + ", ".join(f"{n}t {v:.1f}" for n, v in fp.items()))
    out = cache_dir("generator") / "study"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "int4_blocks.json", json.dumps(
        {"cpu": cpu_summary(), "fp32": base, "rows": rows, "speed": {str(k): v for k, v in speed.items()},
         "eval_tokens": base["tokens"], "calibration_tokens": sum(map(len, calib_windows)),
         "rounds": opts.rounds}, indent=1, default=str))
    if speed:
        print(f"chart {save_chart(rows, speed, threads[0], out / 'int4_blocks.png')}")
    elif (out / "int4_blocks.png").exists():     # an earlier run's chart would no longer match the JSON beside it
        (out / "int4_blocks.png").unlink()
        print("no chart: no block of 32, 64 or 128 was timed (an earlier run's int4_blocks.png removed)")
    return 0
