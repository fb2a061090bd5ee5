"""What the study measures on the machine it runs on: memory bandwidth, the CPU, weight bytes a
decode step reads, and the device runtime's and PyTorch's speed.

    from edge.generator.measure import copy_bandwidth_gb_s, cpu_summary, read_bandwidth_gb_s, runtime_bench
    copy_bandwidth_gb_s()                          # e.g. 24.5 (GB/s read + written by a numpy copy)
    read_bandwidth_gb_s(threads=2)                 # e.g. 33.6 (GB/s read by 2 threads: the decode's roofline)
    runtime_bench(folder, StudyConfig())["rows"]   # edge/runtime/generate.py --bench in a fresh process
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from edge.runtime.lm_measure import read_bandwidth_gb_s  # the device runtime's, so host and device measure alike

if TYPE_CHECKING:
    from edge.generator.study import StudyConfig

__all__ = ["copy_bandwidth_gb_s", "cpu_summary", "median_spread", "read_bandwidth_gb_s", "runtime_bench",
           "torch_bench", "weight_bytes_per_token"]

RUNTIME = Path(__file__).resolve().parent.parent / "runtime" / "generate.py"


def copy_bandwidth_gb_s(mb: int = 256, repeats: int = 5) -> float:
    """Memory bandwidth of a numpy copy (bytes read + written per second), best of `repeats`."""
    src = np.ones(mb * 2**20 // 8)
    dst = np.empty_like(src)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2 * src.nbytes / best / 1e9


def cpu_summary(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name and the instruction sets onnxruntime's int8/int4 kernels depend on (from
    /proc/cpuinfo): the study's ratios move with them (VNNI makes the int8 dot products faster)."""
    try:
        info = Path(cpuinfo).read_text()
    except OSError:
        return "unknown CPU"
    name = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "")
    flags = set(next((line.split(":", 1)[1].split() for line in info.splitlines()
                      if line.startswith(("flags", "Features"))), []))
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8", "asimddp", "i8mm")
    return f"{name or 'CPU'} ({', '.join(f for f in wanted if f in flags) or 'no avx2/vnni'})"


def weight_bytes_per_token(folder: Path) -> int:
    """Bytes of weights a decode step reads: every initializer except the embedding tables, which a
    Gather reads one row of, directly or through a Transpose that onnxruntime folds at load (the
    fp32 export's tied table, when int8-dynamic gives the LM head its own int8 copy). A table the LM
    head also multiplies by is counted."""
    import onnx

    model = onnx.load(str(Path(folder) / "model.onnx"), load_external_data=False)
    readers: dict[str, list] = {}
    for node in model.graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)

    def rows_only(name: str) -> bool:
        nodes = readers.get(name, [])
        return bool(nodes) and all(n.op_type.startswith("Gather") and n.input[0] == name
                                   or n.op_type == "Transpose" and all(rows_only(o) for o in n.output) for n in nodes)

    total = 0
    for init in model.graph.initializer:
        if rows_only(init.name):
            continue
        itemsize = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.FLOAT16: 2, onnx.TensorProto.UINT8: 1,
                    onnx.TensorProto.INT8: 1, onnx.TensorProto.INT64: 8, onnx.TensorProto.INT32: 4,
                    onnx.TensorProto.UINT4: 0.5, onnx.TensorProto.INT4: 0.5}.get(init.data_type, 4)
        total += int(np.prod(init.dims, dtype=np.int64) * itemsize)
    return total


def runtime_bench(folder: Path, config: StudyConfig) -> dict:
    """One run of the device runtime's benchmark on `folder`, in a fresh process (its peak RSS)."""
    argv = [sys.executable, str(RUNTIME), "--model", str(folder), "--bench", "--bench-repeats", "1",
            "--bench-threads", ",".join(map(str, config.threads)), "--max-new-tokens", str(config.new_tokens),
            "--prompt-tokens", str(config.prompt_tokens)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"runtime bench failed on {folder}: {done.stderr.strip()[-300:]}")
    return json.loads(done.stdout)


def torch_bench(model, tokenizer, config: StudyConfig) -> dict:
    """The PyTorch fp32 row's speed: prefill and greedy decode with transformers, per thread count."""
    import torch

    from edge.runtime.lm_measure import BENCH_PROMPT

    ids = (tokenizer(BENCH_PROMPT, add_special_tokens=False).input_ids * (config.prompt_tokens // 8 + 1))
    prompt = torch.tensor([ids[:config.prompt_tokens]])
    short = prompt[:, :16]
    rows = []
    for n in config.threads:
        torch.set_num_threads(n)
        with torch.inference_mode():
            model(input_ids=short)
            start = time.perf_counter()
            model(input_ids=prompt)
            prefill = prompt.shape[1] / (time.perf_counter() - start)
            start = time.perf_counter()
            model.generate(short, attention_mask=torch.ones_like(short), max_new_tokens=config.new_tokens,
                           min_new_tokens=config.new_tokens, do_sample=False)
            wall = time.perf_counter() - start
        rows.append({"threads": n, "prefill_tok_s": [prefill], "decode_tok_s": [config.new_tokens / wall],
                     "wall_s": [wall]})
    return {"rows": rows}


def median_spread(values: list[float]) -> tuple[float, float, float]:
    """(median, min, max): how the study reports a speed or a ratio over rounds."""
    return statistics.median(values), min(values), max(values)
