"""Build the Kaggle notebook bundle that runs a code-competition solution offline on Kaggle.

    from common.kaggle.bundle import build_bundle
    bundle = build_bundle(competition, record, username="ana", out_dir=Path("submissions/x/kaggle-notebook"))
    bundle.dataset_dir   # dataset-metadata.json + kllm_bundle.zip (project code, model files, manifest)
    bundle.kernel_dir    # kernel-metadata.json (internet off, competition as a source) + the notebook

The notebook finds the bundle among its inputs (unpacked by Kaggle, or still a zip), points
KLLM_DATA at the competition's input folder, runs the competition's registered solution with the
run's seed, options, --fast and --folds, and writes the checked /kaggle/working/submission.csv.
Model files are those a run lists in `record.extra["model_files"]` (paths under the cache folder
keep their place in it); the registered models the run read (`record.extra["models"]`) ride as
their installed packages under site/, since Kaggle's image has none of them. Libraries come from
Kaggle's image: the manifest records the versions this machine used, and the notebook names any
that differ.
The bundle is built in a temporary folder and swapped into place whole.
"""
from __future__ import annotations

import importlib.util
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from common.atomic import atomic_dir
from common.data import file_sha256
from common.errors import UserError
from common.paths import cache_dir, repo_root
from common.registry import Competition
from common.results import RunRecord, spread_text

BUNDLE_ZIP = "kllm_bundle.zip"
LIBRARIES = ("torch", "transformers", "sentence-transformers", "peft", "scikit-learn", "lightgbm", "faiss-cpu",
             "polars", "numpy", "onnxruntime", "gguf")
_SKIP_PARTS = {"__pycache__", ".pytest_cache"}


@dataclass(frozen=True)
class NotebookBundle:
    root: Path
    dataset_ref: str     # "owner/slug" of the Kaggle dataset holding code and models
    kernel_ref: str      # "owner/slug" of the notebook

    @property
    def dataset_dir(self) -> Path:
        return self.root / "dataset"

    @property
    def kernel_dir(self) -> Path:
        return self.root / "kernel"


def kernel_slug(competition: Competition) -> str:
    return f"kllm-{competition.slug}"


def dataset_slug(competition: Competition) -> str:
    return f"kllm-{competition.slug}-code"


def _package_dir(competition: Competition) -> Path:
    """Folder of the competition's package, found from its solution entry point."""
    module = (competition.solution or "").split(":")[0]
    package = ".".join(module.split(".")[:2])
    spec = importlib.util.find_spec(package) if package else None
    if spec is None or not spec.submodule_search_locations:
        raise UserError(f"{competition.slug}: cannot find the package of solution {competition.solution!r}")
    return Path(list(spec.submodule_search_locations)[0])


def _code_files(competition: Competition) -> list[tuple[Path, str]]:
    root = repo_root()
    package = _package_dir(competition)
    files = [(root / "competitions" / "__init__.py", "code/competitions/__init__.py")]
    for folder, prefix in ((root / "common", "code/common"), (package, f"code/competitions/{package.name}")):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not _SKIP_PARTS & set(path.parts) and path.suffix != ".pyc":
                files.append((path, f"{prefix}/{path.relative_to(folder).as_posix()}"))
    return files


def _model_files(record: RunRecord) -> list[tuple[Path, str]]:
    names = record.extra.get("model_files", [])
    if not names:
        return []
    cache_root, root = cache_dir().resolve(), repo_root().resolve()
    files = []
    for name in names:
        path = Path(name) if Path(name).is_absolute() else root / name
        if not path.exists():
            raise UserError(f"model file listed by run {record.run_id} is missing: {path}")
        for file in ([path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())):
            file = file.resolve()
            if file.is_relative_to(cache_root):
                files.append((file, f"cache/{file.relative_to(cache_root).as_posix()}"))
            else:
                files.append((file, f"files/{file.name}"))
    return files


CARRIED_OPTIONS = ("extra_train",)    # options whose file a solution lists in model_files: the bundle carries it


HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")       # org/name, as common.models reads a Hugging Face id


def check_portable_options(options: dict) -> None:
    """A UserError when a --set option names a file or folder here (say --set corpus=/data/wiki.parquet)
    or a Hugging Face model (org/name), which the offline notebook would not have on Kaggle; the
    carried ones are fine."""
    for key, value in options.items():
        if key in CARRIED_OPTIONS or not isinstance(value, str):
            continue
        path_like = "/" in value or "\\" in value or value.startswith("~")
        if path_like and Path(value).expanduser().exists():
            raise UserError(f"--set {key}={value} names a path on this machine, which the Kaggle notebook will not "
                            f"have (only {', '.join(CARRIED_OPTIONS)} is carried in the bundle): submit without it")
        if HUB_ID.fullmatch(value):
            raise UserError(f"--set {key}={value} names a Hugging Face model, which Kaggle's offline notebook cannot "
                            f"download: submit with a registered model (common.models) instead")


def _model_packages(record: RunRecord) -> list[tuple[Path, str]]:
    """The installed packages of the registered models the run read (`record.extra["models"]`),
    under site/: Kaggle's image has none of them, and the notebook puts site/ on sys.path."""
    from common.models import MODELS, package_files

    return [(path, f"site/{arc}") for name in record.extra.get("models", []) if name in MODELS
            for path, arc in package_files(name)]


def library_versions() -> dict[str, str]:
    """The versions this machine ran with, of the libraries a solution imports and Kaggle's image
    supplies (the notebook names any that differ there)."""
    import importlib.metadata

    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _write_zip(target: Path, files: list[tuple[Path, str]], manifest: dict) -> None:
    manifest = {**manifest, "files": {arc: file_sha256(path) for path, arc in files}}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path, arc in files:
            zf.write(path, arc)
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, sort_keys=True))


def _notebook(competition: Competition, record: RunRecord) -> dict:
    settings = {
        "slug": competition.slug, "kaggle_slug": competition.kaggle_slug, "seed": record.seed,
        "options": record.extra.get("options", {}), "run_id": record.run_id, "commit": record.commit,
        "fast": bool(record.extra.get("fast", False)), "folds": record.extra.get("folds_requested"),
        "experiment": record.extra.get("experiment"),
    }
    source = (Path(__file__).parent / "notebook_cell.txt").read_text()
    source = source.replace("SETTINGS = {}  # filled in by common.kaggle.bundle", f"SETTINGS = {settings!r}")   # a Python literal
    intro = (f"# {competition.title}: kllm solution, run {record.run_id}\n"
             f"Commit {record.commit}; CV {record.metric} {record.cv:.4f}{spread_text(record.cv_std, record.folds)} "
             f"({record.variant}, {record.data_source} data). Runs offline from the attached bundle.")
    cell = lambda kind, text: {"cell_type": kind, "metadata": {}, "source": text,
                               **({"outputs": [], "execution_count": None} if kind == "code" else {})}
    return {"cells": [cell("markdown", intro), cell("code", source)], "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 4}


def build_bundle(competition: Competition, record: RunRecord, username: str, out_dir: Path) -> NotebookBundle:
    """Write dataset/ and kernel/ folders for `kaggle datasets create` and `kaggle kernels push`."""
    out_dir = Path(out_dir)
    check_portable_options(record.extra.get("options", {}))
    data_ref, kernel_ref = f"{username}/{dataset_slug(competition)}", f"{username}/{kernel_slug(competition)}"
    with atomic_dir(out_dir) as staging:
        bundle = NotebookBundle(staging, data_ref, kernel_ref)
        bundle.dataset_dir.mkdir()
        bundle.kernel_dir.mkdir()
        files = _code_files(competition) + _model_files(record) + _model_packages(record)
        _write_zip(bundle.dataset_dir / BUNDLE_ZIP, files, {
            "competition": competition.slug, "run_id": record.run_id, "commit": record.commit,
            "variant": record.variant, "cv": record.cv, "metric": record.metric, "versions": library_versions()})
        (bundle.dataset_dir / "dataset-metadata.json").write_text(json.dumps({
            "title": f"kllm {competition.slug} code", "id": data_ref,
            "licenses": [{"name": "CC0-1.0"}]}, indent=2))
        notebook_name = f"{kernel_slug(competition)}.ipynb"
        (bundle.kernel_dir / notebook_name).write_text(json.dumps(_notebook(competition, record), indent=1))
        (bundle.kernel_dir / "kernel-metadata.json").write_text(json.dumps({
            "id": kernel_ref, "title": f"kllm {competition.slug}", "code_file": notebook_name,
            "language": "python", "kernel_type": "notebook", "is_private": True,
            "enable_gpu": bool(competition.extra.get("kaggle_gpu", False)), "enable_tpu": False,
            "enable_internet": False, "dataset_sources": [data_ref],
            "competition_sources": [competition.kaggle_slug], "kernel_sources": [], "model_sources": [],
        }, indent=2))
    return NotebookBundle(out_dir, data_ref, kernel_ref)
