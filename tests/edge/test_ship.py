"""edge.ship: a candidate that misses the teacher-gap target ships with a warning, or with
require_gap is bundled and not deployed."""
import pytest

from common.errors import UserError
from common.registry import get_competition
from edge.bundle import BundleInfo
from edge.config import EdgeConfig
from edge.pipeline import EdgeReport, EdgeRun
from edge.ship import ship


def _run(tmp_path, require_gap, skip_deploy=False):
    config = EdgeConfig(require_gap=require_gap, emulated_dir=tmp_path / "pi")
    return EdgeRun(get_competition("detect-ai-text"), config, tmp_path, None, skip_deploy, {}, lambda *_: None)


def _report(met):
    return EdgeReport(competition="detect-ai-text", teacher="t", scores={"teacher": 0.9}, table="", files={}, teacher_gap_met=met,
                      summary="teacher 0.9000 vs int8 student 0.8000 (gap target met: False)")


def _bundle(tmp_path):
    built = []

    def build(provenance):
        built.append(provenance)
        return BundleInfo(tmp_path / "bundle", "abc123", 2048, {})
    return build, built


def test_require_gap_builds_the_bundle_and_refuses_to_deploy(tmp_path, monkeypatch):
    import edge.deploy.emulated as emulated

    monkeypatch.setattr(emulated, "deploy_emulated", lambda *a, **k: pytest.fail("deployed a missed gap"))
    build, built = _bundle(tmp_path)
    with pytest.raises(UserError, match=r"misses the teacher-gap target .*bundle .*bundle built, not deployed"):
        ship(_report(False), build, {"seed": 1}, _run(tmp_path, require_gap=True))
    assert built == [{"seed": 1}]


def test_a_met_gap_ships_and_a_missed_one_fails_under_require_gap_with_skip_deploy_too(tmp_path):
    build, _ = _bundle(tmp_path)
    met = _report(True)
    assert ship(met, build, {}, _run(tmp_path, require_gap=True, skip_deploy=True)) == {
        "path": str(tmp_path / "bundle"), "version": "abc123", "total_mb": 0.0}
    with pytest.raises(UserError, match="built, not deployed .--require-gap"):
        ship(_report(False), build, {}, _run(tmp_path, require_gap=True, skip_deploy=True))
    assert ship(_report(False), build, {}, _run(tmp_path, require_gap=False, skip_deploy=True))["version"] == "abc123"
