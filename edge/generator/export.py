"""Export a causal LM to ONNX with its KV cache, one variant at a time, cached by its inputs.

    from edge.generator.export import build_variant
    from edge.generator.variants import VARIANTS
    folder = build_variant(VARIANTS["int4"])          # cache/generator/smollm2-int4-<hash>/
    CausalLM(folder)                                  # edge/runtime/generate.py runs it

Each variant runs onnxruntime-genai's model builder (`python -m onnxruntime_genai.models.builder
-i HF_FOLDER -o OUT -p fp32|int8|int4 -e cpu`; it imports torch, so host only) in a subprocess,
into a temp folder renamed into place (common/atomic.py). The cache key hashes the source weights
(`model_fingerprint`), the builder's and transformers' versions and every field of the variant, so
a changed option builds a new folder and an unchanged one is reused. Variants that change the
weights first (structured block pruning, Wanda sparsity: edge/generator/prune.py) build from a
derived safetensors folder cached the same way. The variants themselves, by name, are in
edge/generator/variants.py.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common.atomic import atomic_dir, atomic_write_text
from common.cache_keys import json_key
from common.errors import UserError
from common.paths import cache_dir
from common.threads import default_threads
from edge.generator.dynamic import DYNAMIC_CODE
from edge.generator.variants import (DYNAMIC_SMOOTH, MATMULS, SHIPPABLE, SMOOTH, VARIANTS, Variant,
                                     dynamic_smooth_variant, qat_variant, smooth_variant)


def build_named(name: str, model: str = "smollm2", calibration_texts: list[str] | None = None,
                log=print) -> Path:
    """The exported folder of the SHIPPABLE variant `name`; SMOOTH, DYNAMIC_SMOOTH and the QAT_RECIPES need
    calibration_texts (QAT's: its training text, e.g. bench/quant.py's calibration_texts(..., limit=None)).

        build_named("int4-q41", "smollm2")
        build_named(SMOOTH, "smollm2", passages)     # smoothed on `passages`, cached by their hash
    """
    from edge.generator.calibrate import texts_id

    if name not in SHIPPABLE:
        raise UserError(f"no generator variant {name!r}; one of {', '.join(SHIPPABLE)}")
    if name in VARIANTS:
        return build_variant(VARIANTS[name], model, log=log)
    if not calibration_texts:
        raise UserError(f"{name} needs calibration texts")
    texts = texts_id(calibration_texts)
    smoothed = {SMOOTH: smooth_variant, DYNAMIC_SMOOTH: dynamic_smooth_variant}
    variant = smoothed[name](texts) if name in smoothed else qat_variant(texts, name)
    return build_variant(variant, model, calibration_texts, log=log)


def _versions() -> dict[str, str]:
    return {p: importlib.metadata.version(p) for p in ("onnxruntime-genai", "transformers", "onnx-ir")}


REGRID_CODE = 2  # bump when edge/generator/q41.py writes different weights (2: the int8 head on its Q8_0 grid)
SHORTLIST_CODE = 1  # bump when edge/generator/shortlist.py writes a different graph


def variant_key(variant: Variant, source_id: str) -> str:
    fields = dataclasses.asdict(variant)
    for late in ("regrid", "smooth", "dynamic", "qat", "shortlist"):  # added after the first builds: in the key only when set,
        if not fields[late]:                      # so the folders built before them stay valid
            del fields[late]
    if variant.regrid:
        fields["regrid_code"] = REGRID_CODE
    if variant.dynamic:
        fields["dynamic_code"] = DYNAMIC_CODE
    if variant.shortlist:
        fields["shortlist_code"] = SHORTLIST_CODE
    return json_key([fields, source_id, _versions(), 1], sort_keys=True)


def builder_argv(variant: Variant, source: Path, out: Path, hf_cache: Path) -> list[str]:
    argv = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(source), "-o", str(out),
            "-p", variant.precision, "-e", "cpu", "-c", str(hf_cache)]
    if variant.options:
        argv += ["--extra_options"] + [f"{k}={v}" for k, v in variant.options]
    if variant.int8_layers:
        overrides = [{"match": {"name": f"/model/layers.{i}/{m}/MatMul"}, "type": "int8"}
                     for i in variant.int8_layers for m in MATMULS]
        argv += ["--target_options", json.dumps({"quant_config": {"weights": {"overrides": overrides}}})]
    return argv


def source_folder(variant: Variant, model: str, calibration_texts: list[str] | None = None, log=print) -> tuple[Path, str]:
    """(HF folder the builder reads, its identity): the zoo's folder, or a pruned/sparsified/smoothed
    or QAT-trained copy."""
    from common.models import causal_lm_path, model_fingerprint

    base = causal_lm_path(model)
    base_id = f"{model}:{model_fingerprint(model)}"
    if variant.qat:
        from edge.generator.qat import QATConfig, qat_folder

        if variant.drop_layers or variant.sparsity or variant.smooth:
            raise UserError(f"variant {variant.name}: QAT starts from the zoo's weights, not a derived copy")
        return qat_folder(base, base_id, variant.calibration, calibration_texts, QATConfig(**dict(variant.qat)), log=log)
    if not variant.drop_layers and not variant.sparsity and not variant.smooth:
        return base, base_id
    from edge.generator.prune import derived_folder

    return derived_folder(base, base_id, variant.drop_layers, variant.sparsity, variant.calibration,
                          calibration_texts, log=log, smooth=variant.smooth)


def build_variant(variant: Variant, model: str = "smollm2", calibration_texts: list[str] | None = None,
                  log=print) -> Path:
    """The exported folder of `variant` (genai_config.json, model.onnx[.data], tokenizer.json,
    VARIANT.json, chat.json when the model has a chat template): built once (~30 s per variant
    here), then read from the cache."""
    from edge.generator.chat import write_chat_file

    target = _built_variant(variant, model, calibration_texts, log)
    write_chat_file(target)  # also for folders cached before chat.json existed
    if not (target / SIZES_FILE).exists():   # what later runs check the folder against
        atomic_write_text(target / SIZES_FILE, json.dumps(_sizes(target), indent=1))
    return target


SIZES_FILE = "FILES.json"
MUTABLE = {"chat.json", SIZES_FILE}   # rewritten in place; not part of the export


def _sizes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name not in MUTABLE}


def damaged_export(folder: Path) -> str | None:
    """Why a cached export cannot be used (a model file missing, or a file whose size differs from
    the one recorded when it was built: truncated, or replaced), or None."""
    for name in ("genai_config.json", "tokenizer.json", "model.onnx"):
        if not (folder / name).is_file():
            return f"lacks {name}"
    try:
        recorded = json.loads((folder / SIZES_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None                       # built before sizes were kept: written on this use
    except (ValueError, UnicodeDecodeError):
        return f"has a damaged {SIZES_FILE}"
    if not isinstance(recorded, dict):
        return f"has a damaged {SIZES_FILE}"
    sizes = _sizes(folder)
    changed = [name for name, size in recorded.items() if sizes.get(name) != size]
    return f"has {changed[0]} at {sizes.get(changed[0], 0)} bytes, built at {recorded[changed[0]]}" if changed else None


def _built_variant(variant: Variant, model: str, calibration_texts: list[str] | None, log) -> Path:
    source, source_id = source_folder(variant, model, calibration_texts, log=log)
    target = cache_dir("generator") / f"{Path(model).name}-{variant.name}-{variant_key(variant, source_id)}"
    if (target / "VARIANT.json").exists():
        problem = damaged_export(target)
        if problem is None:
            return target
        log(f"generator: the cached {target.name} {problem}: exporting it again")
        shutil.rmtree(target)
    if variant.shortlist:
        return _shortlisted(variant, model, target, calibration_texts, log)
    if variant.regrid:
        return _regridded(variant, model, target, calibration_texts, log)
    if variant.dynamic:
        return _dynamic(variant, model, target, calibration_texts, log)
    log(f"generator: exporting {variant.name} ({variant.note}) -> {target}")
    threads = str(default_threads())
    env = dict(os.environ, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads, TOKENIZERS_PARALLELISM="false")
    with atomic_dir(target, replace=False) as tmp:
        start = time.perf_counter()
        done = subprocess.run(builder_argv(variant, source, tmp / "out", tmp / "hf-cache"), env=env,
                              capture_output=True, text=True, cwd=tmp)
        if done.returncode != 0 or not (tmp / "out" / "genai_config.json").exists():
            tail = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()][-1:] or ["no output"]
            raise UserError(f"model builder failed for variant {variant.name}: {tail[0]}")
        _place_export(tmp / "out", tmp, source, variant, log)
        (tmp / "VARIANT.json").write_text(json.dumps({
            "variant": dataclasses.asdict(variant), "source": str(source), "source_id": source_id,
            "versions": _versions(), "build_s": round(time.perf_counter() - start, 1),
            "builder_argv": builder_argv(variant, source, Path("OUT"), Path("CACHE"))[1:]}, indent=1))
        shutil.rmtree(tmp / "hf-cache", ignore_errors=True)
    return target


def _place_export(built: Path, tmp: Path, source: Path, variant: Variant, log) -> None:
    """Move the builder's output into the target folder; a learned-scale QAT source's grid is written
    into its MatMulNBits on the way (learned_grid.py: the builder would round those blocks again)."""
    from edge.generator.qat import SCALES_FILE, QATConfig

    if (source / SCALES_FILE).exists():
        from edge.generator.learned_grid import write_learned_grid

        _copy_side_files(built, tmp)
        write_learned_grid(built, source, tmp, QATConfig(**dict(variant.qat)).block, log=log)
        shutil.rmtree(built)
        return
    for path in built.iterdir():
        path.rename(tmp / path.name)
    built.rmdir()


def _regridded(variant: Variant, model: str, target: Path, calibration_texts, log) -> Path:
    """The builder's export of `variant` without its regrid, re-coded by edge/generator/q41.py."""
    from edge.generator.q41 import regrid_q41

    base = build_variant(_base_variant(variant), model, calibration_texts, log)
    fp32 = build_variant(VARIANTS["fp32"].with_(drop_layers=variant.drop_layers), model, calibration_texts, log)
    log(f"generator: re-coding {base.name} on its Q4_1 grid -> {target}")
    with atomic_dir(target, replace=False) as tmp:
        _copy_side_files(base, tmp)
        counts = regrid_q41(base, fp32, tmp, log=log, **regrid_options(variant.regrid))
        (tmp / "VARIANT.json").write_text(json.dumps({"variant": dataclasses.asdict(variant), "base": str(base),
                                                      "fp32": str(fp32), "regrid": counts}, indent=1))
    return target


def _shortlisted(variant: Variant, model: str, target: Path, calibration_texts, log) -> Path:
    """The export of `variant` without its shortlist (a listed variant when one matches), its LM head
    shortlisted on the fp32 export's Q8_0 head by edge/generator/shortlist.py."""
    from edge.generator.shortlist import shortlist_head

    plain = variant.with_(shortlist=0)
    inner = next((v for v in VARIANTS.values() if v.with_(name=plain.name, note=plain.note) == plain),
                 plain.with_(name=f"{variant.name}-full"))
    full = build_variant(inner, model, calibration_texts, log)
    fp32 = build_variant(VARIANTS["fp32"].with_(drop_layers=variant.drop_layers), model, calibration_texts, log)
    log(f"generator: shortlisting {full.name}'s LM head -> {target}")
    with atomic_dir(target, replace=False) as tmp:
        _copy_side_files(full, tmp)
        try:
            done = shortlist_head(full, fp32, tmp, variant.shortlist, log=log)
        except ValueError as error:
            raise UserError(f"variant {variant.name}: {error}") from None
        (tmp / "VARIANT.json").write_text(json.dumps({"variant": dataclasses.asdict(variant), "full": str(full),
                                                      "fp32": str(fp32), "shortlist": done}, indent=1))
    return target


def _dynamic(variant: Variant, model: str, target: Path, calibration_texts, log) -> Path:
    """The fp32 export of `variant`'s weights (pruned or smoothed as it says), dynamically quantized."""
    from edge.generator.dynamic import quantize_dynamic_int8

    fp32 = build_variant(VARIANTS["fp32"].with_(drop_layers=variant.drop_layers, sparsity=variant.sparsity,
                                                smooth=variant.smooth, calibration=variant.calibration),
                         model, calibration_texts, log)
    log(f"generator: dynamic int8 of {fp32.name} -> {target}")
    with atomic_dir(target, replace=False) as tmp:
        _copy_side_files(fp32, tmp)
        counts = quantize_dynamic_int8(fp32 / "model.onnx", tmp)
        (tmp / "VARIANT.json").write_text(json.dumps({"variant": dataclasses.asdict(variant), "fp32": str(fp32),
                                                      "dynamic": counts}, indent=1))
    return target


def _copy_side_files(export: Path, out: Path) -> None:
    """Copy an export's config and tokenizer files: all but its model, VARIANT.json and the record
    of its files' sizes (the new folder's own is written when it is built)."""
    for path in export.iterdir():
        if not path.name.startswith(("model.onnx", "VARIANT")) and path.name != SIZES_FILE:
            shutil.copy(path, out / path.name)


def _base_variant(variant: Variant) -> Variant:
    """The builder's export a regrid variant starts from: a listed variant with the same builder
    settings when there is one (int8-q41 starts from int8), else one shared by the variants of one
    stem (int4-q41, int4-q41-fold and int4-q41-fold1 start from int4-q41-base)."""
    plain = variant.with_(regrid="")
    same = [v for v in VARIANTS.values() if v.with_(name=plain.name, note=plain.note) == plain]
    if same:
        return same[0]
    stem = re.sub(r"-(fold\d*|round)$", "", variant.name)
    return plain.with_(name=f"{stem}-base", note=VARIANTS.get(stem, variant).note)


def regrid_options(regrid: str) -> dict:
    """regrid_q41's fold and digits for a Variant.regrid: "q41", "q41-round" or "q41-fold<D>"."""
    if regrid.startswith("q41-fold"):
        return {"fold": "inputs", "digits": int(regrid.removeprefix("q41-fold"))}
    return {"q41": {"fold": "branch"}, "q41-round": {"fold": "none"}}[regrid]


def size_mb(folder: Path) -> float:
    """Size on disk of the model files (model.onnx + external data)."""
    return sum(p.stat().st_size for p in Path(folder).glob("model.onnx*")) / 1e6
