"""Named experiments: small TOML files of overrides beside a competition's code, rerun by name.

    make submit COMP=science-exam EXP=passages_only
    exp = load_experiment(get_competition("science-exam"), "passages_only")
    exp.options     # {"examples": "0", "context_words": "60"}: as if given with --set

A file `competitions/<package>/experiments/<name>.toml` holds a `description`, optionally
`folds`, and a `[set]` table whose keys are the solution's options:

    description = "lm_rag with the top passages only (first 60 words), no solved questions"
    [set]
    examples = 0
    context_words = 60

`--set` on the command line overrides the file's values; the run is recorded under the
experiment's name.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError
from common.registry import Competition
from common.submission import FAST_FOLDER, NOTEBOOK_FOLDER


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str
    options: dict[str, str] = field(default_factory=dict)
    folds: int | None = None
    path: Path | None = None

    def banner(self) -> str:
        """The line a run prints first: 'experiment beam8: a wider beam (beam8.toml)'."""
        about = f": {self.description.strip()}" if self.description.strip() else ""
        return f"experiment {self.name}{about}" + (f" ({self.path.name})" if self.path else "")


# folders beside the experiments' own under submissions/<slug>/: an experiment of that name would share them
TAKEN_NAMES = {FAST_FOLDER: "--fast runs' submissions", NOTEBOOK_FOLDER: "the Kaggle notebook bundle"}


def experiments_dir(competition: Competition) -> Path:
    return competition.sample_dir.parent / "experiments"


def list_experiments(competition: Competition) -> list[str]:
    folder = experiments_dir(competition)
    return sorted(p.stem for p in folder.glob("*.toml") if p.is_file()) if folder.is_dir() else []


def _as_option(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise UserError(f"experiment option values must be strings, numbers or booleans, got {value!r}")


def load_experiment(competition: Competition, name: str) -> Experiment:
    """The experiment `name` of `competition`; a UserError naming the known ones if absent."""
    known = list_experiments(competition)
    if name not in known:           # a plain name from the folder, never a path to elsewhere
        raise UserError(f"{competition.slug}: no experiment {name!r}; known: {', '.join(known) or 'none'}")
    path = experiments_dir(competition) / f"{name}.toml"
    if name in TAKEN_NAMES:
        raise UserError(f"{path}: the name {name!r} is taken by submissions/{competition.slug}/{name}/ "
                        f"({TAKEN_NAMES[name]}): rename the file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserError(f"{path}: not a valid TOML file ({err})") from None
    unknown = sorted(set(raw) - {"description", "folds", "set"})
    if unknown:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown)}; known: description, folds, set")
    table = raw.get("set", {})
    if not isinstance(table, dict):
        raise UserError(f"{path}: set must be a table ([set] with one key = value a line), got {table!r}")
    try:
        options = {str(k): _as_option(v) for k, v in table.items()}
    except UserError as err:
        raise UserError(f"{path}: {err}") from None
    folds = raw.get("folds")
    if folds is not None and (isinstance(folds, bool) or not isinstance(folds, int) or folds < 2):
        raise UserError(f"{path}: folds must be an integer of at least 2, got {folds!r}")
    return Experiment(name, str(raw.get("description", "")), options, folds, path)
