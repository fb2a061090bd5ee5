"""Where things live on disk. Every path can be moved with an environment variable; one set to
an empty or blank value counts as unset (Path("") would be the current folder), blanks around a
value are dropped and a leading ~ is the home folder, as a shell would read them.

    from common.paths import repo_root, data_dir, cache_dir
    data_dir("science-exam")  # -> <repo>/data/science-exam
"""
import os
from pathlib import Path

from common.errors import UserError

# The Cache Directory Tagging Specification (https://bford.info/cachedir/): backup tools (tar
# --exclude-caches, borg, restic) skip a folder holding it, and `kllm cache prune` removes entries
# only from a folder that holds it (common/cache_usage.py).
CACHE_TAG = "CACHEDIR.TAG"
CACHE_TAG_TEXT = ("Signature: 8a477f597d28d172789f06886806bc55\n"
                  "# This file is a cache directory tag created by kllm (the Kaggle LLM monorepo).\n"
                  "# For information about cache directory tags, see https://bford.info/cachedir/\n")

_REPO = Path(__file__).resolve().parent.parent


def _env_path(name: str, default: Path) -> Path:
    value = _env_value(name)
    return Path(value).expanduser() if value else Path(default)


def _env_value(name: str) -> str:
    """The variable without the blanks a shell or CI template leaves around it ('' when unset)."""
    return os.environ.get(name, "").strip()


ON_WORDS, OFF_WORDS = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def env_flag(name: str) -> bool:
    """A switch such as KLLM_ALLOW_HUB: on for 1/true/yes/on, off for 0/false/no/off or unset (any
    case); anything else is a UserError (a typo would otherwise leave it silently off).

        env_flag("KLLM_DEBUG")   # False unless KLLM_DEBUG=1 (or true, yes, on)
    """
    value = _env_value(name)
    if value.lower() in ON_WORDS or value.lower() in OFF_WORDS:
        return env_on(name)
    raise UserError(f"{name}={value!r} is neither on nor off: set it to 1 (or true, yes, on) or 0 (or leave it unset)")


def env_on(name: str) -> bool:
    """env_flag without its refusal: True only for an on word (where a refusal cannot be said: an
    import, an error handler that may run before the up-front check)."""
    return _env_value(name).lower() in ON_WORDS


def repo_root() -> Path:
    return _env_path("KLLM_ROOT", _REPO)


def check_repo_root() -> Path:
    """repo_root(), or UserError when KLLM_ROOT names a folder that is not a checkout of this
    repository (it moves the repository, not the outputs: those have their own variables)."""
    root = repo_root()
    if _env_value("KLLM_ROOT") and not ((root / "competitions").is_dir() and (root / "pyproject.toml").is_file()):
        raise UserError(f"KLLM_ROOT={root} is not a checkout of this repository (no competitions/ and "
                        "pyproject.toml there): it names the repository itself; to move outputs, set KLLM_CACHE, "
                        "KLLM_RESULTS or KLLM_SUBMISSIONS")
    return root


def data_dir(slug: str) -> Path:
    """Real Kaggle files for one competition (git-ignored), filled by `make data COMP=slug`."""
    return _env_path("KLLM_DATA", repo_root() / "data") / slug


def submissions_dir(slug: str) -> Path:
    return _env_path("KLLM_SUBMISSIONS", repo_root() / "submissions") / slug


def results_path() -> Path:
    """The results store: <repo>/results/runs.jsonl. KLLM_RESULTS names the file itself (an
    existing file, or a new path ending in .jsonl) or a folder to keep runs.jsonl in."""
    override = _env_value("KLLM_RESULTS")
    if not override:
        return repo_root() / "results" / "runs.jsonl"
    path = Path(override).expanduser()
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
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:   # a file or a link to nowhere where the folder should be, a read-only disk
        raise UserError(f"cannot make the cache folder {path} ({err.strerror or err})"
                        + (": check KLLM_CACHE" if _env_value("KLLM_CACHE") else "")) from None
    if not (root / CACHE_TAG).exists():
        try:
            (root / CACHE_TAG).write_text(CACHE_TAG_TEXT, encoding="utf-8")
        except OSError:      # a cache shared read-only: readable as it is, only never pruned by `kllm cache`
            pass
    return path
