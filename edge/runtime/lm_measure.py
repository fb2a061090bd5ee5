"""Speed and memory of the on-device causal LM, and the machine's read bandwidth (its decode
roofline). Copied to the device as is, beside causal_lm.py and generate.py (whose --bench and
--bandwidth run these); it takes the model as an argument and imports nothing of theirs.

    rows = bench(lambda n: CausalLM(folder, threads=n), [1, 2], repeats=3, prompt_tokens=300, new_tokens=64)
    read_bandwidth_gb_s(threads=2)                         # -> GB/s, numpy sums
    genai_generate_ids(folder, ids, max_new_tokens=16)     # the same greedy decode through onnxruntime-genai
"""
from __future__ import annotations

import json
import platform
import resource
import time
from pathlib import Path

import numpy as np

BENCH_PROMPT = ("Photosynthesis is the process by which green plants, algae and some bacteria convert light "
                "energy into chemical energy. It takes place mainly in the chloroplasts of leaf cells. ")


def genai_generate_ids(folder: Path, prompt_ids: list[int], max_new_tokens: int, threads: int = 1) -> list[int]:
    """The same greedy decode through onnxruntime-genai (when installed): its tokens must match."""
    import onnxruntime_genai as og

    config = og.Config(str(folder))
    config.overlay(json.dumps({"model": {"decoder": {"session_options": {
        "intra_op_num_threads": threads, "inter_op_num_threads": 1}}}}))
    model = og.Model(config)
    params = og.GeneratorParams(model)
    params.set_search_options(max_length=len(prompt_ids) + max_new_tokens, do_sample=False)
    generator = og.Generator(model, params)
    generator.append_tokens(list(prompt_ids))
    out: list[int] = []
    while not generator.is_done() and len(out) < max_new_tokens:
        generator.generate_next_token()
        out.append(int(generator.get_next_tokens()[0]))
    return out



def peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM, because Linux carries ru_maxrss across exec: a
    runtime started by a big parent process would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def bench(load, threads: list[int], repeats: int, prompt_tokens: int, new_tokens: int) -> list[dict]:
    """Per thread count n, the model `load(n)` gives (a CausalLM): prefill tok/s (a `prompt_tokens`
    prompt), decode tok/s and wall time of a `new_tokens` greedy continuation (no EOS stop), each
    timed `repeats` times after one warm-up."""
    rows = []
    for n in threads:
        lm = load(n)
        ids = (lm.encode(BENCH_PROMPT) * (prompt_tokens // 8 + 1))[:prompt_tokens]
        short = ids[:16]
        lm.generate_ids(short, 4, stop_at_eos=False)  # warm-up
        prefill, decode, wall = [], [], []
        for _ in range(repeats):
            start = time.perf_counter()
            lm.forward(ids)
            prefill.append(len(ids) / (time.perf_counter() - start))
            t: dict = {}
            start = time.perf_counter()
            lm.generate_ids(short, new_tokens, stop_at_eos=False, timings=t)
            wall.append(time.perf_counter() - start)
            decode.append((new_tokens - 1) / t["decode_s"])
        rows.append({"threads": n, "prefill_tok_s": prefill, "decode_tok_s": decode, "wall_s": wall,
                     "machine": platform.machine(), "peak_rss_mb": peak_rss_mb()})
        del lm  # so the next thread count's session does not add to the peak
    return rows


def read_bandwidth_gb_s(threads: int = 1, mb: int = 256, repeats: int = 5) -> float:
    """Memory bandwidth of reading alone: numpy sums over `mb` MB split across `threads` threads
    (numpy's reductions release the GIL), bytes read per second, best of `repeats`. A decode step
    only reads its weights, so this, at the decode's thread count, is its roofline; a copy also
    writes, and one thread cannot draw a 2-core machine's full read bandwidth. The host study
    (edge/generator/measure.py) and the device study (`--bandwidth`) both call this one."""
    import threading

    if threads < 1:
        raise ValueError("threads must be at least 1")
    parts = np.array_split(np.ones(mb * 2**20 // 8), threads)
    best = float("inf")
    for _ in range(repeats):
        workers = [threading.Thread(target=np.add.reduce, args=(part,)) for part in parts]
        start = time.perf_counter()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        best = min(best, time.perf_counter() - start)
    return sum(p.nbytes for p in parts) / best / 1e9

