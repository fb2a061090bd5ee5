"""Where things live on disk. Every path can be moved with an environment variable; one set to
an empty or blank value counts as unset (Path("") would be the current folder).

    from common.paths import repo_root, data_dir, cache_dir
    data_dir("science-exam")  # -> <repo>/data/science-exam
"""
import os
from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name, "")
    return Path(value) if value.strip() else Path(default)


def repo_root() -> Path:
    return _env_path("KLLM_ROOT", _REPO)


def data_dir(slug: str) -> Path:
    """Real Kaggle files for one competition (git-ignored), filled by `make data COMP=slug`."""
    return _env_path("KLLM_DATA", repo_root() / "data") / slug


def submissions_dir(slug: str) -> Path:
    return _env_path("KLLM_SUBMISSIONS", repo_root() / "submissions") / slug


def results_path() -> Path:
    """The results store: <repo>/results/runs.jsonl. KLLM_RESULTS names the file itself (an
    existing file, or a new path ending in .jsonl) or a folder to keep runs.jsonl in."""
    override = os.environ.get("KLLM_RESULTS", "")
    if not override.strip():
        return repo_root() / "results" / "runs.jsonl"
    path = Path(override)
    if path.is_file() or (not path.exists() and path.suffix == ".jsonl"):
        return path
    return path / "runs.jsonl"


def cache_root() -> Path:
    """The cache's folder (KLLM_CACHE, default <repo>/cache), not created."""
    return _env_path("KLLM_CACHE", repo_root() / "cache")


def cache_dir(kind: str = "") -> Path:
    """Disk cache for expensive steps (embeddings, indexes, generations, conversions), created."""
    root = cache_root()
    path = root / kind if kind else root
    path.mkdir(parents=True, exist_ok=True)
    return path
