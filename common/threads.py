"""One CPU thread default for the whole project: model loading, inference and training.

    from common.threads import default_threads
    torch.set_num_threads(default_threads())     # KLLM_THREADS when set, else every core

Trainers copy this number into their config when the config is made
(`common.training.config.TrainConfig.threads`), so it is recorded with every result: float
sums depend on the thread count, and one seed gives one result only at one thread count.
"""
from __future__ import annotations

import os
import re

from common.errors import UserError


def default_threads() -> int:
    # All cores by default (a 155-token SmolLM2 forward: 0.69 s on 1 thread, 0.41 s on 2, here).
    # When other heavy processes share the box, KLLM_THREADS=1 avoids OpenMP threads spinning
    # against them (a small matmul was once ~15x slower at 2 threads under such load).
    value = os.environ.get("KLLM_THREADS", "").strip()
    cores = os.cpu_count() or 1
    if not value:                       # unset, empty or blank: as every other KLLM_ variable, the default
        return cores
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
        raise UserError(f"KLLM_THREADS must be a positive integer, got {value!r}")
    if int(value) > max_threads():
        raise UserError(f"KLLM_THREADS={value} is more than this machine's {cores} cores can use (at most {max_threads()})")
    return int(value)


def max_threads() -> int:
    """The most threads any run takes: max(64, 4 a core). More only oversubscribe (a run with 99,999
    took 17 GB and the machine's whole scheduler, beyond SIGTERM's reach inside onnxruntime)."""
    return max(64, 4 * (os.cpu_count() or 1))
