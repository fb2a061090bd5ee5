"""A distilled student's candidates compared on the device itself: ONNX fp32 and every quantized
candidate, scored and timed where the shipped one will run (a Raspberry Pi over ssh, or the
emulated Pi). Either kind of student whose bundle holds one model.onnx: a classifier (the
detector's encoder) or an lm_features student (predict-the-llm's causal LM statistics and head).

    from edge.deploy.lifecycle import open_device
    with open_device("pi@raspberrypi.local") as (device, root):
        report = run_device_compare(device, root, Path("build/edge/detect-ai-text/bundle"),
                                    {"onnx fp32": fp32, "onnx int8": int8}, held_out, timed, DeviceCompareConfig())
    report.rows[1]["ratio"]       # {1: (median, min, max), 4: (...)}: fp32's p50 / this one's, per round
    report.rows[1]["probs"]       # (len(held_out), classes) computed on the device

`make edge` times its candidates and picks the one that ships on the host, whose int8 kernels
are not the Pi's (x86 VNNI or AVX2 against Arm's SDOT). Here every candidate becomes a copy of
the shipped bundle with its own model.onnx, copied once to <root>/compare/<label>-<hash> (the
name holds the hash of its files; edge/deploy/staging.py), beside one folder with the inputs
scored and one with those timed.
Then, on the device, the bundle's own runtime (detect.py):
- quality: every held-out input's class probabilities (`--json`), kept on the host per device,
  folder and inputs, so a rerun measures only what is new; the caller scores them;
- speed: `detect.py --bench` (batch 1, tokenization included) in a fresh process per candidate,
  the candidates interleaved over `rounds`; each ratio to fp32 is the median of the per-round
  ratios of p50 latencies (min-max).
Under the emulated Pi the probabilities are Arm's own (qemu executes the Arm instructions
exactly); its timings say nothing about a Pi.
"""
from __future__ import annotations

import json
import os
import re
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import UserError
from common.paths import cache_dir
from edge.bundle import MANIFEST
from edge.deploy.flow import RUNTIME, Device, check_path
from edge.deploy.staging import device_slug, files_digest, run_json_lines, stage_folder
from edge.generator.quality import cached_npz
from edge.generator.measure import median_spread

COMPARE_DIR = "compare"
FP32 = "onnx fp32"
SCORE_FILE, TIMED_FILE = "score.jsonl", "timed.jsonl"


@dataclass
class DeviceCompareConfig:
    """threads: thread counts timed (a Pi 5 has 4 cores). rounds: interleaved speed rounds.
    repeats: passes over the timed inputs per round and thread count. speed / quality: which
    halves to run. quality_threads: threads of the scoring runs (None: the most timed).
    timeout_s: per device command."""

    threads: tuple[int, ...] = (1, 4)
    rounds: int = 3
    repeats: int = 3
    speed: bool = True
    quality: bool = True
    quality_threads: int | None = None
    timeout_s: float = 3600


@dataclass
class DeviceCompareReport:
    machine: str
    emulated: bool
    rows: list[dict]


def variant_files(bundle: Path, model: Path) -> dict[str, Path]:
    """The bundle's files with `model` as its model.onnx (its manifest is rewritten when staged).
    The bundle's other files (tokenizer, config with any head, smoke inputs) are the same for
    every candidate, as in `make edge`'s comparison."""
    files = {p.name: p for p in sorted(Path(bundle).iterdir()) if p.is_file() and p.name != MANIFEST}
    if "model.onnx" not in files or RUNTIME not in files:
        raise UserError(f"{bundle} is not a distilled student's bundle (no model.onnx or {RUNTIME})")
    return {**files, "model.onnx": Path(model)}


def candidate_config(bundle: Path, model: Path) -> dict:
    """The bundle's config.json for `model` in place of its own: without its provenance (commit,
    scores), so a new commit copies and rescores nothing; a classifier with the batch its model
    scores at (edge/quantize.py bundle_batch_size: dynamic int8 one input at a time) and its
    smoke tolerance, as a bundle built around that model would say."""
    from edge.bundle import BundleConfig
    from edge.quantize import bundle_batch_size, bundle_smoke_tolerance

    settings = json.loads((Path(bundle) / "config.json").read_text(encoding="utf-8"))
    settings.pop("provenance", None)
    if settings.get("kind") == "classifier":
        settings["batch_size"] = bundle_batch_size(model)
        settings["smoke_tolerance"] = bundle_smoke_tolerance(model, BundleConfig.smoke_tolerance)
    return settings


def input_lines(inputs: list) -> str:
    """JSON lines the runtime reads with --format jsonl: a string, or {"text", "text_pair"}."""
    rows = [{"text": x[0], "text_pair": x[1]} if isinstance(x, tuple) else x for x in inputs]
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def run_device_compare(device: Device, root: str, bundle: Path, models: dict[str, Path], score_inputs: list,
                       timed_inputs: list, config: DeviceCompareConfig | None = None, log=print) -> DeviceCompareReport:
    """models: {label: ONNX file}, "onnx fp32" among them (every ratio is against it)."""
    from tqdm import tqdm

    config = config or DeviceCompareConfig()
    if FP32 not in models:
        raise UserError(f"the device comparison needs the {FP32} model (every ratio is against it)")
    names = [FP32] + [n for n in models if n != FP32]
    base = check_path(f"{root.rstrip('/')}/{COMPARE_DIR}", "device root")
    data = _stage_inputs(device, base, {SCORE_FILE: score_inputs, TIMED_FILE: timed_inputs}, log)
    folders = _stage_candidates(device, base, bundle, {name: models[name] for name in names}, log)
    runtime = {name: device.python(f"{base}/{folders[name]}") + [RUNTIME] for name in names}
    probs: dict[str, np.ndarray] = {}
    if config.quality:
        threads = config.quality_threads or max(config.threads)
        for name in tqdm(names, desc="device scores", unit="model"):
            def measure(name=name):
                rows = run_json_lines(device, f"scoring with {name}", runtime[name] + [
                    "--file", f"../{data[SCORE_FILE]}/{SCORE_FILE}", "--format", "jsonl", "--json",
                    "--threads", str(threads)],
                    f"{base}/{folders[name]}", config.timeout_s)
                return {"probs": np.asarray([list(r["probs"].values()) for r in rows], np.float64)}  # label order
            probs[name] = cached_npz(f"{device_slug(device.name)}-{folders[name]}-{data[SCORE_FILE]}", measure,
                                     cache_dir("edge") / "device")["probs"]
            if len(probs[name]) != len(score_inputs):
                raise UserError(f"{name} on {device.name} scored {len(probs[name])} of {len(score_inputs)} inputs")
    speed: dict[str, list[list[dict]]] = {name: [] for name in names}
    # the device's Python, not its shell: the emulated Pi's shell commands run on the host
    machine = device.run(runtime[FP32][:-1] + ["-c", "import platform; print(platform.machine())"],
                         cwd=f"{base}/{folders[FP32]}")[1].strip()
    emulated = False
    if config.speed:
        bench = ["--bench", "--bench-threads", ",".join(map(str, config.threads)), "--bench-repeats",
                 str(config.repeats), "--file", f"../{data[TIMED_FILE]}/{TIMED_FILE}", "--format", "jsonl"]
        for _ in tqdm(range(config.rounds), desc="device speed", unit="round"):
            for name in names:
                rows = run_json_lines(device, f"bench {name}", runtime[name] + bench, f"{base}/{folders[name]}",
                                      config.timeout_s)
                speed[name].append(rows)
                machine, emulated = rows[0].get("machine", machine), emulated or "note" in rows[0]
    rows = [_row(name, folders[name], models[name], probs.get(name), speed, config) for name in names]
    return DeviceCompareReport(machine=machine, emulated=emulated, rows=rows)


def _stage_inputs(device: Device, base: str, inputs: dict[str, list], log) -> dict[str, str]:
    """{file name: its folder under `base`}, each file in its own folder named by its hash, so a
    new timed set rescores nothing."""
    data = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, items in inputs.items():
            files = {name: Path(tmp) / name}
            files[name].write_text(input_lines(items), encoding="utf-8")
            data[name] = f"{name.split('.')[0]}-{files_digest(files)}"
            stage_folder(device, files, f"{base}/{data[name]}", log)
    return data


def _stage_candidates(device: Device, base: str, bundle: Path, models: dict[str, Path], log) -> dict[str, str]:
    """{label: its folder under `base`}: the bundle with the candidate as model.onnx and its
    candidate_config, named by the hash of its files."""
    folders = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, model) in enumerate(models.items()):
            config_file = Path(tmp) / f"{i}.config.json"
            config_file.write_text(json.dumps(candidate_config(bundle, model), indent=2) + "\n", encoding="utf-8")
            files = {**variant_files(bundle, model), "config.json": config_file}
            folders[name] = f"{re.sub(r'[^A-Za-z0-9.-]+', '-', name).strip('-')}-{files_digest(files)}"
            stage_folder(device, files, f"{base}/{folders[name]}", log)
    return folders


def host_probs(bundle: Path, model: Path, inputs: list, threads: int = 1) -> np.ndarray:
    """The same candidate's probabilities on this machine, through the same runtime (detect.py's
    open_bundle) in a copy of the bundle with `model` as its model.onnx and its candidate_config:
    what the device's are compared with."""
    from edge.runtime.detect import open_bundle

    with tempfile.TemporaryDirectory() as tmp:
        for name, path in variant_files(bundle, model).items():
            if name != "config.json":
                os.symlink(Path(path).resolve(), Path(tmp) / name)
        (Path(tmp) / "config.json").write_text(json.dumps(candidate_config(bundle, model)), encoding="utf-8")
        return open_bundle(Path(tmp), threads=threads).predict_proba(inputs)


def _row(name: str, folder: str, model: Path, probs, speed: dict, config: DeviceCompareConfig) -> dict:
    row: dict = {"variant": name, "folder": folder, "size_mb": round(Path(model).stat().st_size / 2**20, 2)}
    if probs is not None:
        row["probs"] = probs
    if speed[name]:
        for n in config.threads:
            mine = [next(r for r in rows if r["threads"] == n) for rows in speed[name]]
            fp32 = [next(r for r in rows if r["threads"] == n) for rows in speed[FP32]]
            row.setdefault("p50_ms", {})[n] = median_spread([r["p50_ms"] for r in mine])
            row.setdefault("p95_ms", {})[n] = statistics.median(r["p95_ms"] for r in mine)
            row.setdefault("ratio", {})[n] = median_spread([f["p50_ms"] / r["p50_ms"] for f, r in zip(fp32, mine)])
        row["peak_rss_mb"] = max(r["peak_rss_mb"] or 0.0 for rows in speed[name] for r in rows)
    return row
