"""`kllm bench q41_leftover`: can int4-q41-fold keep its leftover correction in fewer MatMuls?

    make bench BENCH=q41_leftover
    python -m cli bench q41_leftover --groups o,down --eval-tokens 8192 --calibration-tokens 4096

int4-q41-fold keeps the zoo's Q4_1 weights exactly in onnxruntime's fast int4 kernel by adding each
block's leftover back through the block sums of the MatMul's input: a Concat and a small MatMul per
distinct input, 240 of int4-q41-fold's 549 kernels a decode token. A group of MatMuls left without
it would shed those kernels; what it would cost is what this measures. Each group's decoder
Linears are fake-quantized in PyTorch with integer zero points only (edge/generator/leftover.py),
the side of each block's zero point taken nearest or calibrated on the study's calibration text
(science-exam Wikipedia passages), or taken nearest with the leftover's average effect over that
text put back as a bias ("mean": the bias input MatMulNBits already has, no extra kernel); every
other weight stays exact, as the fold has it. Perplexity
and next-token agreement against PyTorch fp32 on the study's held-out passages (prompt-recovery
sample), cached under cache/generator/quality/; table, q41_leftover.json and a chart go to
cache/generator/study/.
"""
from __future__ import annotations

GROUPS = {"qkv": r"\.(q|k|v)_proj$", "o": r"\.o_proj$", "gate_up": r"\.(gate|up)_proj$",
          "down": r"\.down_proj$", "all": r"_proj$"}
SIDES = ("nearest", "calibrated", "mean")


def quality_rows(model_name: str, groups: list[str], eval_windows, calib_windows, log=print) -> tuple[dict, list[dict]]:
    """(fp32 reference, one row per group and side: perplexity, its change, agreement, Linears)."""
    from tqdm import tqdm

    from edge.generator.leftover import block_sum_means, block_sum_moments, decoder_linears, drop_biases, drop_leftovers
    from edge.generator.quality import cached_npz, compare, torch_reference, torch_teacher_forced, windows_id

    model, saved, key, ref = torch_reference(model_name, eval_windows)
    base = compare(ref, ref)
    stats = {"calibrated": (block_sum_moments, {}), "mean": (block_sum_means, {})}
    rows = []
    for group, side in tqdm([(g, s) for g in groups for s in SIDES], desc="q41_leftover", unit="row"):
        def compute(group=group, side=side):
            drop_biases(model)
            model.load_state_dict(saved)
            measure, kept = stats.get(side, (None, None))
            if measure and not kept:  # on the fp32 model
                kept.update(measure(model, calib_windows))
            drop_leftovers(model, GROUPS[group], moments=kept if side == "calibrated" else None,
                           means=kept if side == "mean" else None)
            return torch_teacher_forced(model, eval_windows)

        calib = windows_id(calib_windows) if side in stats else "none"
        got = cached_npz(f"leftover-{group}-{side}-{key}-{calib}", compute)
        q = compare(got, ref)
        rows.append({"group": group, "side": side, "linears": len(decoder_linears(model, GROUPS[group])),
                     **q, "perplexity_delta": q["perplexity"] / base["perplexity"] - 1})
        log(f"q41_leftover: {group} {side} perplexity {q['perplexity']:.2f} agreement {q['agreement']:.4f}")
    drop_biases(model)
    model.load_state_dict(saved)
    return base, rows


def format_table(rows: list[dict]) -> str:
    head = ["MatMuls without the leftover", "Linears", *[f"{s}: ppl / agreement" for s in SIDES]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group in dict.fromkeys(r["group"] for r in rows):
        mine = {r["side"]: r for r in rows if r["group"] == group}
        cells = [group, str(next(iter(mine.values()))["linears"])]
        for side in SIDES:
            r = mine.get(side)
            cells.append(f"{r['perplexity']:.2f} ({r['perplexity_delta']:+.1%}) / {r['agreement']:.3f}" if r else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def save_chart(rows: list[dict], path):
    from bench._chart import OUTSIDE, save_line_chart

    groups = list(dict.fromkeys(r["group"] for r in rows))

    def draw(ax):
        width = 0.8 / len(SIDES)
        for i, side in enumerate(SIDES):
            mine = {r["group"]: r["agreement"] for r in rows if r["side"] == side}
            ax.bar([g + (i - (len(SIDES) - 1) / 2) * width for g in range(len(groups))],
                   [mine.get(g, 0) for g in groups], width=width, label=side)
        ax.set_xticks(range(len(groups)), groups)
        ax.axhline(0.90, color="grey", lw=0.8, ls="--")

    return save_line_chart(path, draw, "MatMuls left with integer zero points only",
                           "next-token agreement with fp32 (fake quant)",
                           "Q4_1 without the fold's leftover (target: >= 0.90; the fold keeps 1.0)", legend=OUTSIDE)


def main(args: list[str]) -> int:
    import json

    from bench._args import bench_parser
    from bench.quant import fake_quant_windows
    from common.atomic import atomic_write_text
    from common.paths import cache_dir

    parser = bench_parser("kllm bench q41_leftover")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--groups", default=",".join(GROUPS), help=f"comma-separated, of {', '.join(GROUPS)}")
    parser.add_argument("--eval-tokens", type=int, default=8192)
    parser.add_argument("--calibration-tokens", type=int, default=4096)
    opts = parser.parse_args(args)
    groups = [g for g in opts.groups.split(",") if g]
    if not groups or any(g not in GROUPS for g in groups):
        parser.error(f"--groups names only {', '.join(GROUPS)}; got {opts.groups!r}")
    if min(opts.eval_tokens, opts.calibration_tokens) < 64:
        parser.error("--eval-tokens and --calibration-tokens need at least 64")
    eval_windows, calib_windows = fake_quant_windows(opts.model, opts.eval_tokens, opts.calibration_tokens)
    base, rows = quality_rows(opts.model, groups, eval_windows, calib_windows)
    print(f"Q4_1 without the fold's leftover: {opts.model}, quality on {base['tokens']} held-out tokens "
          f"(prompt-recovery sample passages; PyTorch fp32 perplexity {base['perplexity']:.2f}); calibrated sides and "
          f"means from {sum(map(len, calib_windows))} tokens of science-exam Wikipedia passages; LM head and "
          f"embedding fp32, activations not quantized")
    print(format_table(rows))
    out = cache_dir("generator") / "study"
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "q41_leftover.json", json.dumps(
        {"fp32": base, "rows": rows, "calibration_tokens": sum(map(len, calib_windows))}, indent=1))
    print(f"chart {save_chart(rows, out / 'q41_leftover.png')}")
    return 0
