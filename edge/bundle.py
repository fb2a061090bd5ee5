"""Build a device bundle: one folder that holds everything the Pi runs, with a sha256 manifest.

    from edge.bundle import build_bundle, BundleConfig
    info = build_bundle(Path("student.int8.onnx"), Path("student-folder"), Path("build/bundle"),
                        BundleConfig(max_length=256))
    info.version, info.total_bytes          # 'a1b2c3d4e5f6', 23_456_789

The folder: model.onnx, tokenizer.json, config.json, detect.py (edge/runtime), smoke.jsonl
(smoke texts with the probabilities computed here, the device must reproduce them),
requirements.txt (pinned for linux aarch64, CPython 3.11 = Raspberry Pi OS bookworm) and
MANIFEST.sha256 (`sha256sum -c` format). Built in a temp folder beside `out_dir`, then renamed.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
RUNTIME_FILES = ("detect.py",)
MANIFEST = "MANIFEST.sha256"
MB = 1024 * 1024
# The device's Python packages. Same versions as the host (requirements.txt), so the host and the
# device compute the same numbers; each has a cp311 manylinux aarch64 wheel. onnxruntime imports
# flatbuffers, packaging and protobuf lazily, not at `import onnxruntime`, so the device needs none.
DEVICE_REQUIREMENTS = {"onnxruntime": "1.32.0", "numpy": "2.4.6", "tokenizers": "0.23.3"}
DEVICE_PYTHON = "3.11"
DEFAULT_SMOKE_TEXTS = (
    "The mitochondria is the powerhouse of the cell, and I think everyone should know that.",
    "In conclusion, there are many factors to consider when evaluating the benefits of "
    "extracurricular activities, and it is important to weigh them carefully.",
    "i dont really like when school start so early bc i am always tired in first period",
)


@dataclass
class BundleConfig:
    """What the runtime needs to know beyond the model file.

    max_length: tokens per text after truncation (int, 256).
    labels: class names in logit order (("human", "ai")).
    positive_label: the class whose probability the runtime prints ("ai").
    threshold: probability at or above which `--json` says positive (0.5).
    smoke_texts: texts the device scores in its smoke test (three short essays).
    smoke_tolerance: largest |device - host| probability allowed by the smoke test (1e-3: int8
        kernels differ a little between x86 and Arm).
    max_file_mb / max_total_mb: refuse a bundle with a bigger file / total (100, 100).
    provenance: free-form facts copied into config.json (teacher, student, data, seed, commit).
    """

    max_length: int = 256
    labels: tuple[str, ...] = ("human", "ai")
    positive_label: str = "ai"
    threshold: float = 0.5
    smoke_texts: tuple[str, ...] = DEFAULT_SMOKE_TEXTS
    smoke_tolerance: float = 1e-3
    max_file_mb: float = 100.0
    max_total_mb: float = 100.0
    provenance: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BundleInfo:
    """A built, verified bundle. version: first 12 hex of the manifest's sha256."""

    path: Path
    version: str
    total_bytes: int
    files: dict[str, str]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(MB), b""):
            digest.update(chunk)
    return digest.hexdigest()


def device_requirements_text() -> str:
    lines = [f"# Raspberry Pi OS bookworm: linux aarch64, CPython {DEVICE_PYTHON}. Install with",
             "#   pip install --no-deps --only-binary=:all: -r requirements.txt"]
    lines += [f"{name}=={version}" for name, version in DEVICE_REQUIREMENTS.items()]
    return "\n".join(lines) + "\n"


def write_manifest(folder: Path) -> dict[str, str]:
    """sha256 of every file in `folder` (the manifest itself excluded), written as MANIFEST.sha256."""
    folder = Path(folder)
    files = {p.relative_to(folder).as_posix(): sha256_file(p)
             for p in sorted(folder.rglob("*")) if p.is_file() and p.name != MANIFEST}
    (folder / MANIFEST).write_text("".join(f"{h}  {name}\n" for name, h in files.items()), encoding="utf-8")
    return files


def read_manifest(folder: Path) -> dict[str, str]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise UserError(f"no {MANIFEST} in {folder}: not a bundle")
    files = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        digest, _, name = line.partition("  ")
        files[name] = digest
    return files


def verify_bundle(folder: Path, config: BundleConfig | None = None) -> BundleInfo:
    """Checksums match, no file is unlisted, no torch, sizes under the caps; else UserError."""
    folder, config = Path(folder), config or BundleConfig()
    listed = read_manifest(folder)
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    if present != set(listed):
        raise UserError(f"bundle {folder} does not match its manifest: "
                        f"unlisted {sorted(present - set(listed))}, missing {sorted(set(listed) - present)}")
    for name, digest in listed.items():
        if sha256_file(folder / name) != digest:
            raise UserError(f"bundle file {name} does not match its sha256 in {MANIFEST}")
    _refuse_torch_and_size(folder, sorted(present), config)
    total = sum((folder / name).stat().st_size for name in present) + (folder / MANIFEST).stat().st_size
    version = hashlib.sha256((folder / MANIFEST).read_bytes()).hexdigest()[:12]
    return BundleInfo(folder, version, total, listed)


def _refuse_torch_and_size(folder: Path, names: list[str], config: BundleConfig) -> None:
    total = 0
    for name in names:
        size = (folder / name).stat().st_size
        total += size
        if "torch" in name.lower() or name.endswith((".pt", ".pth", ".bin", ".safetensors")):
            raise UserError(f"bundle must not hold torch files: {name}")
        if size > config.max_file_mb * MB:
            raise UserError(f"bundle file {name} is {size / MB:.1f} MB, over the {config.max_file_mb:g} MB cap")
        if name.endswith(".py") and _imports_torch((folder / name).read_text(encoding="utf-8")):
            raise UserError(f"bundle file {name} imports torch; the device runtime must not")
    if total > config.max_total_mb * MB:
        raise UserError(f"bundle is {total / MB:.1f} MB, over the {config.max_total_mb:g} MB cap")


def _imports_torch(source: str) -> bool:
    import ast

    for node in ast.walk(ast.parse(source)):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        if any(n.split(".")[0] == "torch" for n in names):
            return True
    return False


def _tokenizer_settings(tokenizer: Path) -> tuple[Path, str, int]:
    """(tokenizer.json path, pad token, pad id) from a tokenizer.json or a Hugging Face folder."""
    from tokenizers import Tokenizer

    path = tokenizer / "tokenizer.json" if tokenizer.is_dir() else tokenizer
    if not path.is_file():
        raise UserError(f"no tokenizer.json at {tokenizer}")
    tok = Tokenizer.from_file(str(path))
    candidates = []
    config_path = path.parent / "tokenizer_config.json"
    if config_path.is_file():
        pad = json.loads(config_path.read_text(encoding="utf-8")).get("pad_token")
        candidates.append(pad.get("content") if isinstance(pad, dict) else pad)
    candidates += [(tok.padding or {}).get("pad_token"), "[PAD]", "<pad>"]
    for token in candidates:
        if token and tok.token_to_id(token) is not None:
            return path, token, tok.token_to_id(token)
    raise UserError(f"tokenizer {path} has no padding token ([PAD] or <pad>)")


def _model_io(model: Path) -> tuple[list[str], str, int]:
    """(input names, output name, number of logits) of an ONNX classifier."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several types for unreadable models
        raise UserError(f"cannot load ONNX model {model}: {type(exc).__name__}") from None
    inputs = [i.name for i in session.get_inputs()]
    unknown = set(inputs) - {"input_ids", "attention_mask", "token_type_ids"}
    if unknown:
        raise UserError(f"model wants inputs the device runtime cannot build: {sorted(unknown)}")
    output = session.get_outputs()[0]
    classes = output.shape[-1] if output.shape and isinstance(output.shape[-1], int) else None
    if classes not in (1, 2):
        raise UserError(f"model output {output.name} has shape {output.shape}; want (batch, 1) or (batch, 2)")
    return inputs, output.name, classes


def _runtime_config(model: Path, tokenizer: Path, config: BundleConfig) -> dict:
    if config.positive_label not in config.labels:
        raise UserError(f"positive label {config.positive_label!r} is not among {list(config.labels)}")
    inputs, output, classes = _model_io(model)
    _, pad_token, pad_id = _tokenizer_settings(tokenizer)
    return {"format": 1, "max_length": config.max_length, "labels": list(config.labels),
            "positive_index": config.labels.index(config.positive_label),
            "output": "sigmoid" if classes == 1 else "softmax", "output_name": output,
            "input_names": inputs, "threshold": config.threshold, "pad_token": pad_token,
            "pad_id": pad_id, "smoke_tolerance": config.smoke_tolerance,
            "requirements": DEVICE_REQUIREMENTS, "provenance": config.provenance}


def build_bundle(model: Path, tokenizer: Path, out_dir: Path, config: BundleConfig | None = None) -> BundleInfo:
    """Assemble, score the smoke texts with the runtime itself, write the manifest, verify, rename."""
    from edge.runtime.detect import Detector

    model, tokenizer, out_dir = Path(model), Path(tokenizer), Path(out_dir)
    config = config or BundleConfig()
    if not model.is_file():
        raise UserError(f"missing ONNX model: {model}")
    if not config.smoke_texts:
        raise UserError("BundleConfig.smoke_texts is empty; the device smoke test needs texts")
    runtime_config = _runtime_config(model, tokenizer, config)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        tmp.chmod(0o755)
        shutil.copyfile(model, tmp / "model.onnx")
        shutil.copyfile(_tokenizer_settings(tokenizer)[0], tmp / "tokenizer.json")
        for name in RUNTIME_FILES:
            shutil.copyfile(RUNTIME_DIR / name, tmp / name)
        (tmp / "config.json").write_text(json.dumps(runtime_config, indent=2) + "\n", encoding="utf-8")
        (tmp / "requirements.txt").write_text(device_requirements_text(), encoding="utf-8")
        probs = Detector(tmp, threads=1).predict_proba(list(config.smoke_texts))
        smoke = [json.dumps({"text": t, "prob_ai": round(float(p), 8)}) for t, p in zip(config.smoke_texts, probs)]
        (tmp / "smoke.jsonl").write_text("\n".join(smoke) + "\n", encoding="utf-8")
        write_manifest(tmp)
        verify_bundle(tmp, config)
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return verify_bundle(out_dir, config)


def _swap_in(new: Path, target: Path) -> None:
    """Rename `new` onto `target`; an old target is moved aside first and then deleted."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
