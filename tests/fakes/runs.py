"""A RunRecord with every required field filled, for tests that need a recorded run:

    make_run(run_id="r2", cv=0.61, extra={"submitted": True})

Only the fields a test cares about are named there; a field RunRecord gains later gets its
default here, in one place."""
from __future__ import annotations

from common.results import RunRecord

DEFAULTS = dict(run_id="r1", competition="science-exam", variant="tfidf", metric="map@3", cv=0.5, cv_std=0.02,
                folds=5, higher_is_better=True, data_source="sample", commit="abc", seed=42, wall_s=1.0,
                peak_mem_mb=1.0, time="2026-11-22T10:00:00Z")


def make_run(**fields) -> RunRecord:
    """RunRecord(**DEFAULTS, with `fields` replacing them)."""
    return RunRecord(**{**DEFAULTS, **fields})
