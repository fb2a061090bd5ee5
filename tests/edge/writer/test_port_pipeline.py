"""The port flow of `make edge` end to end on the emulated Pi (aarch64 under qemu-user), with
adversarial-judge's essay writer on a toy plan (no judge, no model): the bundle reproduces the
host's essays, the table has the host and the device, the deploy's smoke test on the device
rewrites every host essay byte for byte, and `kllm edge run` writes essays there."""
import csv
import dataclasses
import io
import json

from fake_specs import TOPICS, essay_plan

from common.data import load_dataset
from common.registry import get_competition
from edge.deploy.emulated import EmulatedPi
from edge.deploy.lifecycle import device_status, run_current
from edge.config import EdgeConfig
from edge.pipeline import run_edge


def test_the_essay_port_deploys_to_the_emulated_pi(tmp_path, pi_root):
    comp = get_competition("adversarial-judge")
    toy = dataclasses.replace(comp, edge_spec="fake_specs:essay_port")
    config = EdgeConfig(latency_texts=4, out_dir=tmp_path / "edge", emulated_dir=tmp_path / "pi-device")
    report = run_edge(toy, load_dataset(comp), config, seed=3, log=lambda *_: None)
    n = len(TOPICS)
    assert report.scores == {"host": 1.0, "device": 1.0} and report.teacher_gap_met is True
    assert report.info["kind"] == "essay_writer" and report.info["identical_outputs"] == n
    assert f"{n}/{n}" in report.table.splitlines()[3] and report.info["bench"]["peak_rss_mb"] > 0
    smoke = report.deploy["smoke"]
    assert smoke["machine"] == "aarch64" and smoke["ok"] is True and smoke["mismatches"] == 0 and smoke["inputs"] == n
    folder = tmp_path / "pi-device" / "adversarial-judge"
    assert (folder / "current").resolve().name == report.deploy["version"]
    provenance = json.loads((folder / "current" / "config.json").read_text())["provenance"]
    assert provenance["scores"] == {"host": 1.0, "device": 1.0} and provenance["metric"] == "judge_score"

    device = EmulatedPi(pi_root)
    topics = "id,topic\n" + "".join(f'{i},"{t.replace(chr(34), chr(34) * 2)}"\n' for i, t in enumerate(TOPICS))
    code, out, err = run_current(device, str(tmp_path / "pi-device"), "adversarial-judge", topics, ["--format", "csv"])
    assert code == 0, err
    assert [r["essay"] for r in csv.DictReader(io.StringIO(out))] == essay_plan()[1]
    (status,) = device_status(device, str(tmp_path / "pi-device"))
    assert status.competition == "adversarial-judge" and status.versions[0].kind == "essay_writer"
