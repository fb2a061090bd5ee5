"""The end of every `make edge` flow: the report on disk, the bundle built and deployed.

    from edge.ship import save_report, ship
    clear_last_run(out)                              # once the teacher is done: the last run's report and bundle go
    save_report(report, out)                         # out/report.json, written atomically
    report.bundle = ship(report, lambda prov: steps.bundle(out / "bundle", prov), provenance, run)
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from common.atomic import atomic_write_text
from common.errors import UserError
from common.results import git_commit

if TYPE_CHECKING:
    from edge.config import EdgeConfig
    from edge.pipeline import EdgeReport, EdgeRun


LAST_RUN = ("report.json", "compare.csv", "compare.png", "latency_inputs.jsonl", "bundle")


def clear_last_run(out: Path) -> None:
    """Remove what the last run in `out` summed up (its report, comparison and bundle), so a run
    that is stopped half-way never leaves them beside its own newer students as if they matched."""
    for name in LAST_RUN:
        path = Path(out) / name
        if path.is_dir() and not path.is_symlink():
            doomed = path.with_name(f".{name}.removing-{os.getpid()}")
            os.replace(path, doomed)           # gone from its name at once; a stop mid-removal leaves only this
            shutil.rmtree(doomed)
        elif path.exists() or path.is_symlink():
            path.unlink()


def save_report(report: EdgeReport, out: Path) -> Path:
    return atomic_write_text(out / "report.json", json.dumps(jsonable(asdict(report)), indent=2) + "\n")


def provenance_of(report: EdgeReport, steps, config: EdgeConfig) -> dict:
    return {"competition": report.competition, "teacher": report.teacher,
            "metric": report.info.get("metric"), "scores": {k: round(v, 4) for k, v in report.scores.items()},
            "student": steps.describe(), "seed": config.distill.seed, "commit": git_commit(),
            "data": report.info.get("data_source"), **({"fast": True} if report.info.get("fast") else {}),
            **({"shipped": report.info["shipped"]} if "shipped" in report.info else {}),
            **{key: report.info[key] for key in ("experiment", "options") if report.info.get(key)}}


def ship(report: EdgeReport, build_bundle: Callable, provenance: dict, run: EdgeRun) -> dict:
    """Build the bundle (build_bundle(provenance) -> BundleInfo), then deploy it (ssh device,
    emulated Pi, or nowhere with skip_deploy)."""
    config, device, log = run.config, run.device, run.log
    bundle = build_bundle(provenance)
    log(f"      bundle {bundle.path} version {bundle.version}, {bundle.total_bytes / 1024 / 1024:.3g} MB")
    if config.require_gap and report.teacher_gap_met is False:
        raise UserError(f"{report.competition}: the shipped candidate misses the teacher-gap target ({report.summary}); "
                        f"bundle {bundle.path} built, not deployed (--require-gap; without it, it ships with a warning)")
    if run.skip_deploy:
        log("      deploy skipped (--skip-deploy)")
    else:
        if device:
            from edge.deploy.ssh import deploy_ssh

            result = deploy_ssh(bundle.path, device, config.ssh_options, root=config.deploy_root,
                                competition=report.competition, log=log)
        else:
            from edge.deploy.emulated import deploy_emulated

            result = deploy_emulated(bundle.path, config.emulated_dir, competition=report.competition, log=log)
        report.deploy = jsonable(asdict(result))
        log(f"      deployed {result.version} to {result.device} (machine {result.smoke.get('machine', '?')})")
    return {"path": str(bundle.path), "version": bundle.version, "total_mb": round(bundle.total_bytes / 1024 / 1024, 2)}


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    return value
