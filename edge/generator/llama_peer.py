"""llama.cpp on the same weights, as a peer of the ONNX variants (host only, opt-in: the
`llama-cpp-python` package, built from its source distribution).

    files = gguf_variants(zoo_gguf)                   # {"llama.cpp q4_1": zoo file, "... q8_0", "... f32"}
    quality = llama_teacher_forced(files["llama.cpp q4_1"], windows)   # as edge/generator/quality.py
    speed = llama_bench(files["llama.cpp q4_1"], prompt_ids, threads=(1, 2), new_tokens=64)

The zoo's SmolLM2 is a GGUF Q4_1 file: llama.cpp runs it as it is, and its own quantizer derives
Q8_0 and F32 files from it (requantizing: Q8_0 of the Q4_1 weights, F32 their exact values), so
every row here and every ONNX row hold the same weights. Teacher-forced quality uses the same
token windows as the study; speed is greedy decode of the same 16-token prompt (the runtime's
BENCH_PROMPT) with llama.cpp's own evaluation loop, one token per call, as edge/runtime/generate.py.
"""
from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common.atomic import atomic_path
from common.errors import UserError
from common.paths import cache_dir

DERIVED = {"llama.cpp q8_0": "LLAMA_FTYPE_MOSTLY_Q8_0", "llama.cpp f32": "LLAMA_FTYPE_ALL_F32"}
# a build for an AVX-512 CPU without llama.cpp's AMX kernels (GGML_NATIVE would switch them on)
NO_AMX_BUILD = ('CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON '
                '-DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AMX_INT8=OFF" '
                'pip install --force-reinstall --no-deps --no-cache-dir llama-cpp-python==0.3.36')
_PROBE = "import sys; from edge.generator.llama_peer import _model; _model(sys.argv[1], 1, False).eval([1, 2, 3, 4])"


def llama_cpp():
    """The llama_cpp module, or a UserError that says how to get it."""
    try:
        import llama_cpp
    except ImportError:
        raise UserError("llama.cpp peer: `llama-cpp-python` is not installed (opt-in: "
                        "`pip install -e .[llama]`, a build from source of several minutes)") from None
    return llama_cpp


def gguf_variants(source: Path, out_dir: Path | None = None) -> dict[str, Path]:
    """{row name: GGUF file}: the source (Q4_1) and the files llama.cpp's quantizer derives from it."""
    lib = llama_cpp()
    out_dir = Path(out_dir or cache_dir("generator") / "llama_cpp")
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"llama.cpp q4_1": Path(source)}
    for name, ftype in DERIVED.items():
        target = out_dir / f"{Path(source).stem}.{name.split()[-1]}.gguf"
        if not target.exists():
            params = lib.llama_model_quantize_default_params()
            params.ftype = getattr(lib, ftype)
            params.allow_requantize = True
            with atomic_path(target, suffix=".gguf") as tmp:
                if lib.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params)) != 0:
                    raise UserError(f"llama.cpp could not write {name} from {source}")
        files[name] = target
    return files


def check_decodes(path: Path) -> None:
    """Decode 4 tokens in a child process first, so that a llama.cpp that crashes becomes one
    UserError line instead of killing the benchmark: its AMX matmul segfaults on some Xeons
    (llama.cpp#20824; it did on this project's Intel machine), and the line gives the rebuild."""
    run = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True)
    if run.returncode == 0:
        return
    died = f"signal {signal.Signals(-run.returncode).name}" if run.returncode < 0 else f"exit code {run.returncode}"
    amx = "AMX_INT8 = 1" in llama_cpp().llama_print_system_info().decode(errors="replace")
    raise UserError(f"llama.cpp peer: llama.cpp died ({died}) decoding {Path(path).name}; " + (
        f"this build uses AMX kernels, a known crash on some CPUs (llama.cpp#20824): rebuild without them: {NO_AMX_BUILD}"
        if amx else f"last output: {(run.stderr or run.stdout).strip()[-300:]}"))


def _model(path: Path, threads: int, logits_all: bool, n_ctx: int = 512):
    return llama_cpp().Llama(model_path=str(path), n_ctx=n_ctx, n_batch=n_ctx, n_threads=threads,
                             n_threads_batch=threads, logits_all=logits_all, verbose=False)


def llama_teacher_forced(path: Path, windows: list[list[int]], threads: int = 2) -> dict[str, np.ndarray]:
    """Per predicted token over all windows: its NLL and llama.cpp's argmax (the study's format)."""
    from edge.runtime.causal_lm import log_softmax

    llm = _model(path, threads, logits_all=True)
    nll, argmax = [], []
    for ids in windows:
        llm.reset()
        llm.eval(list(ids))
        logits = np.asarray(llm.scores[: len(ids) - 1], dtype=np.float64)       # (T-1, V)
        logp = log_softmax(logits)
        nll.append(-logp[np.arange(len(ids) - 1), np.asarray(ids[1:])])
        argmax.append(logits.argmax(axis=-1))
    return {"nll": np.concatenate(nll), "argmax": np.concatenate(argmax).astype(np.int32)}


def llama_bench(path: Path, prompt_ids: list[int], threads: tuple[int, ...], new_tokens: int) -> dict:
    """Per thread count: prefill tok/s of `prompt_ids`, decode tok/s and wall time of a greedy
    `new_tokens` continuation of its first 16 ids (one warm-up first), in the runtime's format."""
    rows = []
    short = list(prompt_ids[:16])
    for n in threads:
        llm = _model(path, n, logits_all=False)
        vocab = llm.n_vocab()
        llm.reset()
        llm.eval(short)                                                         # warm-up
        llm.reset()
        start = time.perf_counter()
        llm.eval(list(prompt_ids))
        prefill = len(prompt_ids) / (time.perf_counter() - start)
        llm.reset()
        start = time.perf_counter()
        llm.eval(short)
        decode_start = time.perf_counter()
        for _ in range(new_tokens - 1):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(vocab,))   # the last position's
            llm.eval([int(np.argmax(logits))])
        end = time.perf_counter()
        rows.append({"threads": n, "prefill_tok_s": [prefill], "decode_tok_s": [(new_tokens - 1) / (end - decode_start)],
                     "wall_s": [end - start]})
        del llm
    return {"rows": rows}
