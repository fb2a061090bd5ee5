"""The competition registry. Each package under `competitions/` registers itself on import.

    from common.registry import Competition, register, get_competition
    register(Competition(slug="science-exam", kaggle_slug="kaggle-llm-science-exam", ...))
    get_competition("science-exam").metric   # -> "map@3"

`common` never imports a competition: the top layer (CLI, tests) imports the `competitions`
package, which imports every sub-package and so fills this registry.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from common.errors import UserError
from common.folds import CvSpec
from common.schema import CompetitionSchema


@dataclass(frozen=True)
class Competition:
    """Everything the shared tooling needs to know about one competition.

    solution: "package.module:function" run by `submit`; None while no solution is built.
      The function takes a `common.solution.RunContext` and returns a `SolutionResult`.
    sample_dir: the committed sample in the Kaggle file layout.
    dataset_builder: "package.module:function" that regenerates the sample (`make dataset`).
    edge_spec: "package.module:function" that `make edge` runs (a DistillSet or a PortSet).
    code_competition: True when Kaggle accepts only notebook submissions.
    cv: how its train rows are split into cross-validation folds (common.folds.CvSpec); None for a
        competition with no train rows, validated by judge panels instead.
    side_files: files beside the tables that the solution reads when the data folder holds them
        (science-exam: corpus.parquet): they count in the data's fingerprint, so a folder whose
        side file differs from the sample's is not the sample.
    """

    slug: str
    kaggle_slug: str
    title: str
    schema: CompetitionSchema
    metric: str
    sample_dir: Path
    solution: str | None = None
    dataset_builder: str | None = None
    edge_spec: str | None = None
    code_competition: bool = True
    cv: CvSpec | None = field(default_factory=CvSpec)
    side_files: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def load_entry(self, attr: str) -> Callable:
        """Import the 'module:function' named by one of the entry-point fields."""
        target = getattr(self, attr)
        if target is None:
            raise UserError(f"{self.slug}: no {attr.replace('_', ' ')} is built yet for this competition: "
                            f"register {attr}=\"package.module:function\", {ENTRY_POINT_SHAPES[attr]}")
        module_name, func_name = target.split(":")
        return getattr(importlib.import_module(module_name), func_name)


_REGISTRY: dict[str, Competition] = {}
ENTRY_POINT_SHAPES = {   # what each entry point is, for the message when one is missing
    "solution": "a run(ctx: RunContext) -> SolutionResult (common/solution.py)",
    "dataset_builder": "a build(limit=None, seed=0, out_dir=None) that writes the sample (common/sources/samples.py)",
    "edge_spec": "a spec(data, seed=42, fast=False, options=None) -> DistillSet (common/distill_set.py) "
                 "or PortSet (common/port_set.py)",
}


def register(competition: Competition) -> Competition:
    """Add `competition` to the registry; a metric that is not in common.metrics or a fold column
    its table lacks is refused here, when the package is imported, not after a run."""
    from common.metrics import METRICS

    if competition.slug in _REGISTRY and _REGISTRY[competition.slug] != competition:
        raise ValueError(f"competition {competition.slug!r} registered twice")
    if competition.metric not in METRICS:
        raise ValueError(f"{competition.slug}: unknown metric {competition.metric!r}; known: {', '.join(sorted(METRICS))}")
    cv = competition.cv
    table = competition.schema.tables.get(cv.table) if cv is not None else None
    if cv is not None and cv.by and table is not None and cv.by not in table.columns:
        raise ValueError(f"{competition.slug}: folds split by {cv.by!r}, which {table.filename} does not have")
    _REGISTRY[competition.slug] = competition
    return competition


def get_competition(slug: str) -> Competition:
    if slug not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY)) or "none registered"
        raise UserError(f"unknown competition {slug!r}; known: {known}")
    return _REGISTRY[slug]


def all_competitions() -> list[Competition]:
    return [_REGISTRY[s] for s in sorted(_REGISTRY)]
