"""The compression study on the device itself: the study's exports timed and scored where they
will run, a Raspberry Pi over ssh or the emulated Pi.

    make bench BENCH=quant_device DEVICE=pi@raspberrypi.local
    python -m cli bench quant_device --variants fp32,int8,int4,int4-q41-fold --threads 1,4 --rounds 3

    from edge.deploy.lifecycle import open_device
    with open_device("pi@raspberrypi.local") as (device, root):
        report = run_device_study(device, root, folders, windows, DeviceStudyConfig())
    report.rows[0]["decode_ratio"]                      # {1: (median, min, max), 4: (...)}

`make bench BENCH=quant` measures on the host, and its ratios move with the CPU; the issue's
targets are about a Pi 5, whose Arm kernels also round differently (symmetric int4 goes to
KleidiAI's kernel, which rounds activations per row, not per block of 32, and cuts the weight
scales to bfloat16: tests/edge/generator/test_arm_int4_arithmetic.py). Each variant folder (built and cached on the
host by edge/generator/export.py) is copied once to <root>/study/<folder name>: the name holds
the hash of its inputs, and a folder of that name is complete (copied to .incoming-<name>,
checked with `sha256sum -c`, then renamed). The runtime folder beside it holds generate.py
(with the files it loads: edge.bundle.LM_FILES), requirements.txt and the held-out token windows. Then, on the device:
- quality: `generate.py --teacher-forced`: each next token's NLL and argmax over the windows, so
  perplexity, agreement with the device's own fp32, and how many argmaxes differ from the host's
  run of the same variant (its Arm kernels against x86's); with `decode_steps`, the same fed one
  token a step as generation runs (`--decode-steps`): agreement with fp32's own steps, and with
  the variant's own one-pass argmaxes (x86's int8-activation kernels round one row and many
  differently: bench/decode_path.py);
- speed: `generate.py --bench` in a fresh process per variant, the variants interleaved over
  `rounds`; the decode ratio is the median of the per-round ratios to fp32 (min-max), and the
  rate the decode reads its weights at (decode tok/s x weight bytes a token, counted on the host
  as the host study's roofline counts them) as a share of the device's read bandwidth
  (`generate.py --bandwidth`, numpy sums at each thread count, measured every round: the
  roofline). Where decode is bound by memory, a variant's ratio is at most fp32's weight bytes
  over its own (`memory_bound_ceiling`), and its read rate is fp32's.
Under the emulated Pi (qemu, Cortex-A76) the quality columns are Arm's own, because qemu executes
the Arm instructions exactly; its timings say nothing about a Pi.
"""
from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from common.errors import UserError
from edge.bundle import LM_FILES, device_requirements_text
from edge.deploy.flow import Device, check_path
from edge.deploy.staging import device_slug, files_digest, run_json, stage_folder
from edge.generator.export import size_mb
from edge.generator.measure import median_spread, weight_bytes_per_token
from edge.generator.quality import cached_npz, windows_id
from edge.generator.variants import CHAT_FILES

RUNTIME = Path(__file__).resolve().parents[1] / "runtime" / "generate.py"
STUDY_DIR = "study"
WINDOWS = "windows.json"


@dataclass
class DeviceStudyConfig:
    """threads: thread counts timed (a Pi 5 has 4 cores). rounds: interleaved speed rounds.
    new_tokens / prompt_tokens: decode and prefill lengths, as the host study's. speed / quality:
    which halves to run. quality_threads: threads of the teacher-forced runs (None: the most timed).
    timeout_s: per device command. bandwidth_mb: the array the device's read bandwidth is measured
    over each speed round (`generate.py --bandwidth`), the roofline's denominator. decode_steps:
    also score the windows one token a step (about as long again as a decode of that many tokens)."""

    threads: tuple[int, ...] = (1, 4)
    rounds: int = 3
    new_tokens: int = 64
    prompt_tokens: int = 300
    speed: bool = True
    quality: bool = True
    quality_threads: int | None = None
    timeout_s: float = 7200
    bandwidth_mb: int = 256
    decode_steps: bool = False


@dataclass
class DeviceStudyReport:
    """read_bandwidth_gb_s: {threads: (median, min, max)} of the device's read bandwidth over the
    speed rounds (empty when speed was not timed)."""

    machine: str
    emulated: bool
    rows: list[dict]
    read_bandwidth_gb_s: dict[int, tuple[float, float, float]] = field(default_factory=dict)


def runtime_files(work: Path, windows: list[list[int]] | None = None) -> dict[str, Path]:
    """generate.py and the files it loads (LM_FILES), requirements.txt and (unless None) the
    windows, written under `work`."""
    (work / "requirements.txt").write_text(device_requirements_text(), encoding="utf-8")
    for name in LM_FILES:
        shutil.copy2(RUNTIME.parent / name, work / name)
    paths = [work / name for name in LM_FILES] + [work / "requirements.txt"]
    if windows is not None:
        (work / WINDOWS).write_text(json.dumps(windows), encoding="utf-8")
        paths.append(work / WINDOWS)
    return {p.name: p for p in paths}


def run_device_study(device: Device, root: str, folders: dict[str, Path], windows: list[list[int]],
                     config: DeviceStudyConfig | None = None, host_quality: dict[str, dict] | None = None,
                     log=print) -> DeviceStudyReport:
    """folders: {variant name: host folder}, fp32 among them. host_quality: {name: {"nll", "argmax"}}
    of the host's run on the same windows (edge/generator/quality.py teacher_forced), for the
    Arm-against-x86 column."""
    from tqdm import tqdm

    config = config or DeviceStudyConfig()
    if "fp32" not in folders:
        raise UserError("the device study needs the fp32 variant (every ratio is against it)")
    names = ["fp32"] + [n for n in folders if n != "fp32"]
    study = check_path(f"{root.rstrip('/')}/{STUDY_DIR}", "device root")
    with tempfile.TemporaryDirectory() as tmp:
        files = runtime_files(Path(tmp), windows)
        runtime = f"{study}/runtime-{files_digest(files)}"
        stage_folder(device, files, runtime, log)
    for name in names:
        stage_folder(device, {f: folders[name] / f for f in CHAT_FILES if (folders[name] / f).exists()},
                     f"{study}/{folders[name].name}", log)
    python = device.python(runtime) + [RUNTIME.name]
    quality: dict[str, dict] = {}
    steps: dict[str, dict] = {}
    slug = device_slug(device.name)
    if config.quality:
        for name in tqdm(names, desc="device quality", unit="variant"):
            def measure(name=name, one_token=False):
                out = run_json(device, f"teacher-forced {name}", python + [
                    "--model", f"../{folders[name].name}", "--teacher-forced", WINDOWS,
                    "--threads", str(config.quality_threads or max(config.threads))]
                    + (["--decode-steps"] if one_token else []), runtime, config.timeout_s)
                return {"nll": np.asarray(out["nll"]), "argmax": np.asarray(out["argmax"], np.int32),
                        "machine": np.asarray(out["machine"])}
            # deterministic for a device and a folder: kept on the host, so a rerun measures only what is new
            key = f"device-{slug}-{folders[name].name}-{windows_id(windows)}"
            quality[name] = cached_npz(key, measure)
            if config.decode_steps:
                steps[name] = cached_npz(f"{key}-steps", lambda name=name: measure(name, one_token=True))
    speed: dict[str, list[dict]] = {name: [] for name in names}
    bandwidth: dict[int, list[float]] = {n: [] for n in config.threads}
    machine, emulated = str(next(iter(quality.values()), {}).get("machine", "")), False
    if config.speed:
        threads = ["--bench-threads", ",".join(map(str, config.threads))]
        bench = ["--bench", "--bench-repeats", "1", *threads,
                 "--max-new-tokens", str(config.new_tokens), "--prompt-tokens", str(config.prompt_tokens)]
        for _ in tqdm(range(config.rounds), desc="device speed", unit="round"):
            out = run_json(device, "bandwidth", python + ["--bandwidth", "--bandwidth-mb", str(config.bandwidth_mb),
                                                          *threads], runtime, config.timeout_s)
            for n in config.threads:
                bandwidth[n].append(float(out["read_gb_s"][str(n)]))
            for name in names:
                out = run_json(device, f"bench {name}", python + ["--model", f"../{folders[name].name}", *bench],
                                runtime, config.timeout_s)
                speed[name].append(out)
                machine, emulated = out["rows"][0]["machine"], emulated or "note" in out
    host = host_quality or {}
    read = {n: median_spread(b) for n, b in bandwidth.items() if b}
    rows = [_row(name, folders[name], quality, speed, host.get(name), host.get("fp32"), read, config) for name in names]
    for row in rows if steps else ():
        mine, fp32 = steps[row["variant"]]["argmax"], steps["fp32"]["argmax"]
        row.update(steps_agreement=float((mine == fp32).mean()),
                   self_agreement=float((mine == quality[row["variant"]]["argmax"]).mean()))
    return DeviceStudyReport(machine=machine, emulated=emulated, rows=rows, read_bandwidth_gb_s=read)


def _row(name: str, folder: Path, quality: dict, speed: dict, host: dict | None, host_fp32: dict | None,
         read: dict[int, tuple[float, float, float]], config: DeviceStudyConfig) -> dict:
    row: dict = {"variant": name, "folder": folder.name, "size_mb": round(size_mb(folder), 1),
                 "weight_mb_per_token": weight_bytes_per_token(folder) / 1e6}
    if name in quality:
        mine, ref = quality[name], quality["fp32"]
        row.update(perplexity=float(np.exp(mine["nll"].mean())), agreement=float((mine["argmax"] == ref["argmax"]).mean()),
                   tokens=int(mine["nll"].size))
        if host is not None and host_fp32 is not None:
            row.update(host_perplexity=float(np.exp(np.asarray(host["nll"]).mean())),
                       host_agreement=float((np.asarray(host["argmax"]) == np.asarray(host_fp32["argmax"])).mean()),
                       argmax_unlike_host=int((mine["argmax"] != np.asarray(host["argmax"])).sum()))
    if speed[name]:
        for n in config.threads:
            rounds = [[r for r in out["rows"] if r["threads"] == n][0] for out in speed[name]]
            fp32 = [[r for r in out["rows"] if r["threads"] == n][0] for out in speed["fp32"]]
            decode = [statistics.median(r["decode_tok_s"]) for r in rounds]
            ratios = [d / statistics.median(f["decode_tok_s"]) for d, f in zip(decode, fp32)]
            row.setdefault("decode_tok_s", {})[n] = median_spread(decode)
            row.setdefault("decode_ratio", {})[n] = median_spread(ratios)
            # the rate the decode reads its weights at: near fp32's, the variant is bound by memory as fp32 is
            row.setdefault("read_gb_s", {})[n] = statistics.median(decode) * row["weight_mb_per_token"] / 1e3
            row.setdefault("roofline", {})[n] = row["read_gb_s"][n] / read[n][0]
            row.setdefault("prefill_tok_s", {})[n] = statistics.median(statistics.median(r["prefill_tok_s"]) for r in rounds)
            row.setdefault("wall_s", {})[n] = statistics.median(statistics.median(r["wall_s"]) for r in rounds)
        row["peak_rss_mb"] = max(r["peak_rss_mb"] for out in speed[name] for r in out["rows"])
    return row


def memory_bound_ceiling(row: dict, fp32: dict) -> float:
    """The decode ratio to fp32 that `row` would reach if both read their weights at the same rate:
    fp32's weight bytes a token over the row's."""
    return fp32["weight_mb_per_token"] / row["weight_mb_per_token"]
