"""`kllm bench quant_device`: the compression study's quality and speed on the device itself.

    make bench BENCH=quant_device DEVICE=pi@raspberrypi.local   # a Pi over ssh: quality and speed
    make bench BENCH=quant_device                               # the emulated Pi: quality only
    python -m cli bench quant_device --device pi@host --variants fp32,int8,int4-q41-fold --threads 1,4 --rounds 3

The study's exports (cached on the host; the uniform variants, int8-smooth and int8-dynamic-smooth) are copied once to the device (edge/generator/device_study.py)
and run there by the device runtime: teacher-forced over held-out windows of the prompt-recovery
sample's passages (the host study's held-out text), so perplexity, agreement with the device's own
fp32 and the positions whose argmax differs from the host's run of the same variant; and, unless
--no-speed, the runtime's benchmark with the variants interleaved over --rounds rounds, decode ratios
to fp32 as the median of the per-round ratios (min-max) and the rate each decode reads its weights
at and its share of the device's read bandwidth (the roofline), beside the ratio a variant would
reach if bound by memory as fp32 (its weight bytes a token against fp32's: on a Pi, whether int4
is held by its kernel or by the memory). Under the emulated Pi speed is off by default (qemu's
timings say nothing about a Pi; --speed times it anyway, marked as emulated), and the quality
columns are Arm's own (qemu executes the Arm instructions exactly). Prints the table and the
issue's lines, and writes report.json and a PNG under cache/generator/study-device/<device>/.
"""
from __future__ import annotations

import json
import os

INT8_TARGET, INT4_TARGET, ROOFLINE_TARGET = 2.29, 4.0, 0.5


def parse(args: list[str]):
    from bench._args import add_device_flags, bench_parser, device_threads, variant_names
    from edge.generator.variants import DYNAMIC_SMOOTH, QAT_RECIPES, SHIPPABLE, SMOOTH

    parser = bench_parser("kllm bench quant_device")
    add_device_flags(parser, "variants")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--variants", default="fp32,int8,int4,int4-q41,int4-q41-fold,int4-q41-fold-head4-top64",
                        help=f"the study's uniform variants, {SMOOTH}, {DYNAMIC_SMOOTH} and the QAT variants "
                             f"({', '.join(QAT_RECIPES)})")
    parser.add_argument("--eval-tokens", type=int, help="held-out tokens scored per variant (default: 4096 on a Pi, "
                        "1024 emulated, where fp32 scores about 2.5 tokens a second)")
    parser.add_argument("--decode-steps", action="store_true",
                        help="also score the windows one token a step, as generation runs (bench/decode_path.py)")
    opts = parser.parse_args(args)
    if opts.decode_steps and not opts.quality:
        parser.error("--decode-steps scores quality: it cannot go with --no-quality")
    names = variant_names(parser, opts.variants, SHIPPABLE)
    threads = device_threads(parser, opts)
    opts.eval_tokens = (4096 if opts.device else 1024) if opts.eval_tokens is None else opts.eval_tokens
    if opts.eval_tokens < 16:
        parser.error("--eval-tokens must be at least 16")
    return opts, (["fp32"] if "fp32" not in names else []) + names, threads


def _cell(spread) -> str:
    return f"{spread[0]:.2f}x ({spread[1]:.2f}-{spread[2]:.2f})"


def format_table(report, threads) -> str:
    from edge.generator.device_study import memory_bound_ceiling

    fp32 = next(r for r in report.rows if r["variant"] == "fp32")
    timed = any("decode_ratio" in r for r in report.rows)
    head = ["variant", "size MB", "MB read a token", "memory-bound ceiling x fp32", "perplexity", "agreement",
            "argmax unlike host", "host perplexity", "host agreement"]
    for n in threads if timed else ():
        head += [f"decode tok/s {n}t", f"decode x fp32 {n}t", f"reads GB/s {n}t", f"roofline {n}t"]
    head += ["prefill tok/s", "64-token s", "peak MB"] if timed else []
    steps = any("steps_agreement" in r for r in report.rows)
    head += ["agreement one token a step", "same argmax both ways"] if steps else []
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in report.rows:
        cells = [r["variant"], f"{r['size_mb']:.0f}", f"{r['weight_mb_per_token']:.1f}",
                 f"{memory_bound_ceiling(r, fp32):.2f}x"]
        if "perplexity" in r:
            change = 100 * (r["perplexity"] / fp32["perplexity"] - 1)
            cells += [f"{r['perplexity']:.2f} ({change:+.1f}%)", f"{r['agreement']:.3f}",
                      f"{r['argmax_unlike_host']} of {r['tokens']}" if "argmax_unlike_host" in r else "-",
                      f"{r['host_perplexity']:.2f}" if "host_perplexity" in r else "-",
                      f"{r['host_agreement']:.3f}" if "host_agreement" in r else "-"]
        else:
            cells += ["-"] * 5
        if timed:
            for n in threads:
                cells += [f"{r['decode_tok_s'][n][0]:.1f}", _cell(r["decode_ratio"][n]), f"{r['read_gb_s'][n]:.1f}",
                          f"{100 * r['roofline'][n]:.0f}%"] if "decode_ratio" in r else ["-"] * 4
            top = max(threads)
            cells += [f"{r['prefill_tok_s'][top]:.0f}", f"{r['wall_s'][top]:.2f}", f"{r['peak_rss_mb']:.0f}"] \
                if "decode_ratio" in r else ["-"] * 3
        if steps:
            cells += [f"{r['steps_agreement']:.3f}", f"{r['self_agreement']:.3f}"] if "steps_agreement" in r else ["-"] * 2
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def target_lines(report, threads) -> list[str]:
    """The issue's int8, int4 and int4 roofline lines, judged on this device's own numbers (never on
    the emulated Pi's)."""
    from bench._args import device_verdict
    from edge.generator.device_study import memory_bound_ceiling

    rows = {r["variant"]: r for r in report.rows}
    fp32, out = rows["fp32"], []

    def intact(r, ppl, agreement):
        return "perplexity" in r and r["perplexity"] <= fp32["perplexity"] * (1 + ppl) and r["agreement"] >= agreement

    for n in threads:
        if "int8" in rows and "decode_ratio" in rows["int8"]:
            r = rows["int8"]
            ok = r["decode_ratio"][n][0] >= INT8_TARGET and intact(r, 0.02, 0.95)
            out.append(f"int8 at {n}t: {_cell(r['decode_ratio'][n])} (target {INT8_TARGET}x, +2%, agreement 0.95; "
                       f"{memory_bound_ceiling(r, fp32):.2f}x if bound by memory as fp32): {device_verdict(ok, report.emulated)}")
        int4 = [r for name, r in rows.items() if name.startswith("int4") and "decode_ratio" in r and intact(r, 0.05, 0.90)]
        if int4:
            best = max(int4, key=lambda r: r["decode_ratio"][n][0])
            out.append(f"best intact int4 at {n}t: {best['variant']} {_cell(best['decode_ratio'][n])} "
                       f"(target {INT4_TARGET}x; {memory_bound_ceiling(best, fp32):.2f}x if bound by memory as fp32): "
                       f"{device_verdict(best['decode_ratio'][n][0] >= INT4_TARGET, report.emulated)}")
        if "roofline" in rows.get("int4", {}):
            share = rows["int4"]["roofline"][n]
            out.append(f"int4 roofline at {n}t: {100 * share:.0f}% of the device's read bandwidth (target "
                       f"{100 * ROOFLINE_TARGET:.0f}%): {device_verdict(share >= ROOFLINE_TARGET, report.emulated)}")
    return out


def save_chart(report, threads, path):
    from bench._chart import save_line_chart
    from edge.generator.device_study import memory_bound_ceiling

    timed = [r for r in report.rows if "decode_ratio" in r]

    def draw(ax):
        if timed:
            width = 0.8 / len(threads)
            for i, n in enumerate(threads):
                ax.bar([j + i * width for j in range(len(timed))], [r["decode_ratio"][n][0] for r in timed],
                       width, label=f"{n} thread{'s' if n > 1 else ''}")
            for target in (INT8_TARGET, INT4_TARGET):
                ax.axhline(target, color="grey", lw=0.8, ls="--")
            centers = [j + width * (len(threads) - 1) / 2 for j in range(len(timed))]
            fp32 = next(r for r in report.rows if r["variant"] == "fp32")
            ax.scatter(centers, [memory_bound_ceiling(r, fp32) for r in timed], marker="_", s=600, color="black",
                       label="if bound by memory as fp32")
            ax.set_xticks(centers, [r["variant"] for r in timed])
        else:
            rows = [r for r in report.rows if "agreement" in r]
            ax.bar(range(len(rows)), [r["agreement"] for r in rows], 0.6, label="agreement with the device's fp32")
            ax.axhline(0.90, color="grey", lw=0.8, ls="--")
            ax.set_xticks(range(len(rows)), [r["variant"] for r in rows])

    ylabel = "decode tok/s / fp32's (median of rounds)" if timed else "next-token agreement"
    return save_line_chart(path, draw, "variant", ylabel, f"compression study on {report.machine}"
                           + (" (emulated)" if report.emulated else ""), figsize=(8, 4))


def main(args: list[str]) -> int:
    from bench._args import note_short_text
    from bench.quant import held_out_texts, named_folders
    from common.atomic import atomic_path
    from common.paths import cache_dir
    from edge.deploy.lifecycle import check_device_threads, open_device
    from edge.deploy.staging import device_slug
    from edge.generator.calibrate import token_windows
    from edge.generator.device_study import DeviceStudyConfig, run_device_study
    from edge.generator.quality import teacher_forced
    from edge.runtime.causal_lm import CausalLM

    opts, names, threads = parse(args)
    config = DeviceStudyConfig(threads=threads, rounds=opts.rounds, speed=opts.speed, decode_steps=opts.decode_steps,
                               quality=opts.quality,   # emulated: qemu's threads share this machine's cores
                               quality_threads=None if opts.device else min(max(threads), os.cpu_count() or 1))
    with open_device(opts.device, opts.root) as (device, root):   # an unreachable Pi fails before the exports
        check_device_threads(device, threads)                     # ... as do more threads than it has cores for
        held_out = held_out_texts()
        folders = named_folders(names, opts.model, held_out)
        windows = token_windows(CausalLM(folders["fp32"]).encode, held_out, opts.eval_tokens)
        note_short_text(windows, opts.eval_tokens, "--eval-tokens")
        host = {name: teacher_forced(folder, windows) for name, folder in folders.items()} if opts.quality else {}
        report = run_device_study(device, root, folders, windows, config, host_quality=host)
    emulated = report.emulated = report.emulated or not opts.device
    print(f"compression study on {device.name} ({report.machine}{', emulated: speed says nothing about a Pi' if emulated else ''}); "
          f"{sum(len(w) - 1 for w in windows)} held-out next tokens (prompt-recovery sample passages); "
          + (f"speed: median of {opts.rounds} interleaved rounds, ratios the median of per-round ratios (min-max)"
             if opts.speed else "speed not timed"))
    print(format_table(report, threads))
    if report.read_bandwidth_gb_s:
        print("read bandwidth on the device (numpy sums, the roofline's denominator; median (min-max) of the rounds): "
              + ", ".join(f"{n}t {b[0]:.1f} ({b[1]:.1f}-{b[2]:.1f}) GB/s" for n, b in report.read_bandwidth_gb_s.items()))
    for line in target_lines(report, threads):
        print(line)
    out = cache_dir("generator") / "study-device" / device_slug(opts.device or "emulated-pi")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "report.json", suffix=".json") as tmp:
        tmp.write_text(json.dumps({"device": device.name, "machine": report.machine, "emulated": emulated,
                                   "threads": threads, "rounds": opts.rounds, "rows": report.rows,
                                   "read_bandwidth_gb_s": report.read_bandwidth_gb_s}, indent=1,
                                  default=str), encoding="utf-8")
    print(f"chart {save_chart(report, threads, out / 'quant_device.png')}")
    return 0
