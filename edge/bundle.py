"""A device bundle: one folder that holds everything the Pi runs, with a sha256 manifest. Shared
by every kind of shipped model (edge/classifier/bundle.py builds the classifier's).

    info = assemble_bundle(Path("build/bundle"), {"model.onnx": model, "detect.py": runtime_file},
                           {"config.json": text}, BundleConfig(), finish=write_smoke)
    info.version, info.total_bytes          # 'a1b2c3d4e5f6', 23_456_789

Every bundle holds requirements.txt (pinned for linux aarch64, CPython 3.11 = Raspberry Pi OS
bookworm) and MANIFEST.sha256 (`sha256sum -c` format). It is built in a temp folder beside
`out_dir` (common.atomic.atomic_dir), verified there, and only then swapped in.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from common.atomic import atomic_dir
from common.errors import UserError
from edge.runtime.records import MANIFEST, sha256_file

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
# the bundle's command line (edge/runtime/detect.py) and the files it loads from beside it: every bundle holds them
DETECT_FILES = ("detect.py", "records.py", "classifier.py")
# the causal LM's command line (edge/runtime/generate.py) and the files it loads from beside it
LM_FILES = ("generate.py", "causal_lm.py", "lm_chat.py", "lm_measure.py", "lm_sampling.py", "records.py")
MB = 1024 * 1024
BENCH_TIMEOUT_S = 600
# The device's Python packages. Same versions as the host (requirements.txt), so the host and the
# device compute the same numbers; each has a cp311 manylinux aarch64 wheel. onnxruntime imports
# flatbuffers, packaging and protobuf lazily, not at `import onnxruntime`, so the device needs none.
DEVICE_REQUIREMENTS = {"onnxruntime": "1.32.0", "numpy": "2.4.6", "tokenizers": "0.23.3"}
DEVICE_PYTHON = "3.11"


@dataclass
class BundleConfig:
    """What every bundle is checked against (kinds of model extend it).

    smoke_tolerance: largest |device - host| probability allowed by the smoke test (1e-3: int8
        kernels differ a little between x86 and Arm).
    max_file_mb / max_total_mb: refuse a bundle with a bigger file / total (100, 100).
    provenance: free-form facts copied into config.json (teacher, student, data, seed, commit).
    """

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


def recorded_caps(folder: Path) -> BundleConfig:
    """The size caps a bundle was built under (config.json "bundle_caps", itself in the manifest;
    a causal LM's bundle is bigger than a classifier's), else the defaults."""
    path = Path(folder) / "config.json"
    caps = json.loads(path.read_text(encoding="utf-8")).get("bundle_caps", {}) if path.is_file() else {}
    return BundleConfig(**{k: float(v) for k, v in caps.items() if k in ("max_file_mb", "max_total_mb")})


def verify_bundle(folder: Path, config: BundleConfig | None = None) -> BundleInfo:
    """Checksums match, no file is unlisted, no torch, sizes under the caps (`config`, else the
    caps the bundle records); else UserError."""
    folder = Path(folder)
    config = config or recorded_caps(folder)
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


def check_submission_columns(submission, labels) -> list[str]:
    """The Kaggle submission's columns a classifier bundle answers a CSV input in (the id, then the
    positive class's probability for 2 labels, or every class's, named as the labels), as a
    list; UserError otherwise.

        check_submission_columns(("id", "generated"), ("human", "ai"))   # ["id", "generated"]
    """
    n_labels = len(labels)
    wanted = (1, 2) if n_labels == 2 else (n_labels,)   # one column: the positive class's probability
    if submission and len(submission) - 1 not in wanted:
        raise UserError(f"submission columns {list(submission)}: for {n_labels} labels want the id, then "
                        + " or ".join(map(str, wanted)) + " probability column(s)"
                        + ("" if n_labels == 2 else " (one column is the positive class's probability: 2 labels "
                           "only; a score or class name in one column is not what this runtime prints)"))
    if len(submission) > 2 and list(submission[1:]) != list(labels):
        raise UserError(f"submission columns {list(submission[1:])} are not the labels {list(labels)} in their order: "
                        "each class's probability is printed under its label's column")
    return list(submission)


def tokenizer_settings(tokenizer: Path) -> tuple[Path, str, int]:
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


def assemble_bundle(out_dir: Path, copies: dict[str, Path], texts: dict[str, str], config: BundleConfig,
                    finish=None) -> BundleInfo:
    """Copy `copies` (name -> source file) and write `texts` (name -> content) into a temp folder,
    add requirements.txt, call `finish(folder)` (e.g. the runtime scoring its smoke inputs there),
    write the manifest, verify, and swap the folder in for `out_dir`. On any error `out_dir` stays
    as it was (in `make edge`, empty: edge.ship.clear_last_run removed the last run's bundle)."""
    with atomic_dir(Path(out_dir)) as tmp:
        for name, source in copies.items():
            shutil.copyfile(source, tmp / name)
        for name, text in texts.items():
            (tmp / name).write_text(text, encoding="utf-8")
        (tmp / "requirements.txt").write_text(device_requirements_text(), encoding="utf-8")
        if finish is not None:
            finish(tmp)
        write_manifest(tmp)
        verify_bundle(tmp, config)
    return verify_bundle(out_dir, config)


def bench_bundle(folder: Path, inputs_file: Path, repeats: int) -> dict:
    """`detect.py --bench` in a bundle folder, in a fresh process on this machine, 1 thread, batch
    1, over the JSON lines in `inputs_file`, each `repeats` times: its row (p50_ms, p95_ms,
    peak_rss_mb, ...). A UserError with the bundle's last word when it fails."""
    argv = [sys.executable, "-I", "detect.py", "--bench", "--bench-threads", "1", "--bench-repeats", str(repeats),
            "--file", str(Path(inputs_file).resolve()), "--format", "jsonl"]
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=BENCH_TIMEOUT_S)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not rows:
        said = (done.stderr.strip() or "no output").splitlines()[-1]
        raise UserError(f"the bundle's bench failed (exit {done.returncode}): {said}")
    return rows[0]
