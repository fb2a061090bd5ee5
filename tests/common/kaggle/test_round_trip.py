"""The Kaggle round trip through the real `kaggle` client against a loopback stand-in server:
download -> submit CSV -> push notebook + code submission -> list submissions -> leaderboard."""
import io
import json
import zipfile
from pathlib import Path

import pytest

from cli.main import main
from common.errors import UserError
from common.kaggle import KaggleSession, KaggleSubmitConfig, download_competition, submit_to_kaggle
from common.registry import get_competition
from common.results import append_run, read_runs
from fakes.kaggle_server import KEY, TOKEN, USERNAME, fake_kaggle, write_kaggle_json  # noqa: F401
from fakes.runs import make_run
from fakes.tiny_data import kaggle_zip

FAST = KaggleSubmitConfig(dataset_wait_s=5, kernel_wait_s=5, poll_s=0.01)


def make_record(competition, run_id, cv, submitted=True, variant="tfidf"):
    return make_run(run_id=run_id, competition=competition.slug, variant=variant, metric=competition.metric, cv=cv,
                    cv_std=0.01, folds=3, higher_is_better=competition.metric != "multiclass_logloss",
                    data_source="kaggle", commit="c0ffee123456", seed=7, extra={"submitted": submitted})


def files_containing(root, secret: str) -> list:
    hits = []
    for path in root.rglob("*"):
        if path.is_file() and path.name != "kaggle.json" and secret.encode() in path.read_bytes():
            hits.append(path)
    return hits


@pytest.fixture
def two_competitions(fake_kaggle):
    llm, exam = get_competition("predict-the-llm"), get_competition("science-exam")
    for comp, scores in ((llm, (1.31, 1.35)), (exam, (0.612, 0.598))):
        fake_kaggle.add_competition(comp.kaggle_slug, kaggle_zip(comp))
        fake_kaggle.scores[comp.kaggle_slug] = scores
    fake_kaggle.leaderboard[exam.kaggle_slug] = [("winners", 0.933), ("second", 0.92)]
    return llm, exam


def test_round_trip(fake_kaggle, two_competitions, tmp_path, capsys):
    llm, exam = two_competitions
    write_kaggle_json(fake_kaggle.home)

    # download: zip served by the fake, unpacked and schema-checked into data/<slug>/
    folder = download_competition(exam)
    assert folder == tmp_path / "data" / "science-exam"
    assert sorted(p.name for p in folder.iterdir()) == [".kllm-downloaded", "sample_submission.csv", "test.csv",
                                                        "train.csv"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging left

    # CSV route: predict-the-llm
    csv = tmp_path / "submissions" / "predict-the-llm" / "submission.csv"
    csv.parent.mkdir(parents=True)
    csv.write_text("id,target_0\n0,1.0\n")
    llm_run = make_record(llm, "run-llm-1", 1.2871)
    append_run(llm_run)
    line = submit_to_kaggle(llm, csv, [llm_run])
    (create,) = fake_kaggle.called("CreateSubmission")
    assert fake_kaggle.blobs[create["blobFileTokens"]] == csv.read_bytes()
    message = create["submissionDescription"]
    assert "commit=c0ffee123456" in message and "multiclass_logloss=1.2871" in message and "run=run-llm-1" in message
    assert line.startswith("submitted to Kaggle h2oai-predict-the-llm as CSV")

    # notebook route: science-exam (a code competition)
    exam_runs = [make_record(exam, "run-exam-1", 0.70, submitted=False, variant="bm25"), make_record(exam, "run-exam-2", 0.65)]
    for run in exam_runs:
        append_run(run)
    line = submit_to_kaggle(exam, tmp_path / "unused.csv", exam_runs, config=FAST)
    assert "as notebook kllm-science-exam" in line and "run=run-exam-2" in line  # the flagged run, not the best CV
    assert [p.name for p in (tmp_path / "shared-tmp").iterdir()] == [".kaggle"]  # the uploads' state was ours, removed
    (kernel,) = fake_kaggle.called("SaveKernel")
    assert kernel["slug"] == f"{USERNAME}/kllm-science-exam"
    assert kernel["enableInternet"] is False
    assert kernel["competitionDataSources"] == ["kaggle-llm-science-exam"]
    assert kernel["datasetDataSources"] == [f"{USERNAME}/kllm-science-exam-code"]
    cells = json.loads(kernel["text"])["cells"]
    assert "'slug': 'science-exam'" in cells[1]["source"] and "submission.csv" in cells[1]["source"]
    compile(cells[1]["source"], "notebook", "exec")
    dataset = fake_kaggle.datasets[f"{USERNAME}/kllm-science-exam-code"]
    bundle = zipfile.ZipFile(io.BytesIO(dataset["files"]["kllm_bundle.zip"]))
    names = set(bundle.namelist())
    assert {"code/common/results.py", "code/competitions/__init__.py",
            "code/competitions/science_exam/__init__.py", "manifest.json"} <= names
    assert not any("predict_the_llm" in n or "__pycache__" in n for n in names)
    manifest = json.loads(bundle.read("manifest.json"))
    assert manifest["run_id"] == "run-exam-2" and manifest["commit"] == "c0ffee123456"
    (code_sub,) = fake_kaggle.called("CreateCodeSubmission")
    assert code_sub["kernelVersion"] == 1 and code_sub["fileName"] == "submission.csv"

    # a second notebook submit versions the dataset and the kernel instead of failing
    submit_to_kaggle(exam, tmp_path / "unused.csv", exam_runs, config=FAST)
    assert dataset["versions"] == 2 and fake_kaggle.kernels[f"{USERNAME}/kllm-science-exam"]["version"] == 2

    # list submissions with scores -> filed under their runs -> leaderboard
    png = tmp_path / "lb.png"
    assert main(["leaderboard", "--kaggle", "--png", str(png)]) == 1   # three competitions the stand-in lacks: 404
    out = capsys.readouterr().out
    runs = {r.run_id: r for r in read_runs()}
    assert (runs["run-llm-1"].public, runs["run-llm-1"].private) == (1.31, 1.35)
    assert (runs["run-exam-2"].public, runs["run-exam-2"].private) == (0.612, 0.598)
    assert runs["run-exam-1"].public is None  # never submitted
    assert "science-exam public LB top: 1. winners 0.933" in out
    exam_block = out.split("science-exam  [")[1]
    assert "0.6120" in exam_block and "0.5980" in exam_block
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # credentials never in any output or written file
    captured = capsys.readouterr()
    for secret in (KEY, TOKEN):
        assert secret not in out + captured.out + captured.err
        assert files_containing(tmp_path, secret) == []


def test_token_credentials(fake_kaggle, two_competitions, monkeypatch, tmp_path, capfd):
    llm, _ = two_competitions
    monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
    session = KaggleSession.open()
    assert session.username == USERNAME and session.credentials.source == "KAGGLE_API_TOKEN"
    csv = tmp_path / "s.csv"
    csv.write_text("id\n0\n")
    assert "submitted" in submit_to_kaggle(llm, csv, [make_record(llm, "r", 1.0)])
    assert fake_kaggle.called("IntrospectToken")[0]["token"] == TOKEN
    captured = capfd.readouterr()
    assert TOKEN not in captured.out + captured.err and files_containing(tmp_path, TOKEN) == []


def test_missing_credentials_is_one_line_and_writes_nothing(fake_kaggle, two_competitions, tmp_path, capsys):
    llm, exam = two_competitions
    csv = tmp_path / "s.csv"
    csv.write_text("id\n0\n")
    for comp in (llm, exam):
        line = submit_to_kaggle(comp, csv, [make_record(comp, "r", 1.0)])
        assert "\n" not in line and "kaggle.json" in line and "KAGGLE_API_TOKEN" in line
    assert fake_kaggle.calls == []
    assert not (tmp_path / "submissions").exists() and not (tmp_path / "results").exists()
    with pytest.raises(UserError, match="KAGGLE_USERNAME and KAGGLE_KEY"):
        download_competition(exam)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())
    assert capsys.readouterr().out == ""


def test_not_joined_is_one_clear_line(fake_kaggle, two_competitions, tmp_path):
    llm, exam = two_competitions
    write_kaggle_json(fake_kaggle.home)
    fake_kaggle.not_joined |= {llm.kaggle_slug, exam.kaggle_slug}
    with pytest.raises(UserError) as refused:
        download_competition(exam)
    assert "join the competition on the website first" in str(refused.value) and "403" in str(refused.value)
    assert not any((tmp_path / "data").iterdir())  # no staging folder, no data/<slug>
    csv = tmp_path / "s.csv"
    csv.write_text("id\n0\n")
    with pytest.raises(UserError, match="join the competition on the website first"):
        submit_to_kaggle(llm, csv, [make_record(llm, "r", 1.0)])
    with pytest.raises(UserError, match="join the competition on the website first"):
        submit_to_kaggle(exam, csv, [make_record(exam, "r", 1.0)], config=FAST)
    assert fake_kaggle.called("SaveKernel") == [] and fake_kaggle.datasets == {}  # refused before pushing
    assert not (tmp_path / "submissions").exists()  # no bundle built
    assert read_runs() == []  # no kaggle_ref recorded for a refused submission
    assert KEY not in str(refused.value)


def test_wrong_key_and_unknown_competition(fake_kaggle, two_competitions, monkeypatch):
    llm, _ = two_competitions
    write_kaggle_json(fake_kaggle.home, key="wrong-" + KEY)
    with pytest.raises(UserError) as refused:
        download_competition(llm)
    assert "401" in str(refused.value) and "wrong-" + KEY not in str(refused.value)
    write_kaggle_json(fake_kaggle.home)
    monkeypatch.setitem(fake_kaggle.competitions, "elsewhere", b"")
    del fake_kaggle.competitions[llm.kaggle_slug]
    with pytest.raises(UserError, match="404"):
        download_competition(llm)


def test_schema_mismatch_keeps_the_old_files(fake_kaggle, two_competitions, tmp_path):
    _, exam = two_competitions
    write_kaggle_json(fake_kaggle.home)
    (tmp_path / "data" / ".science-exam.download-killed" / "part").mkdir(parents=True)  # a killed run's staging
    download_competition(exam)
    before = (tmp_path / "data" / "science-exam" / "train.csv").read_bytes()
    fake_kaggle.add_competition(exam.kaggle_slug, kaggle_zip(exam, rows=2, drop_column="prompt"))
    with pytest.raises(UserError, match="missing column.*prompt"):
        download_competition(exam)
    assert (tmp_path / "data" / "science-exam" / "train.csv").read_bytes() == before
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["science-exam"]


def test_notebook_still_running_or_failed(fake_kaggle, two_competitions, tmp_path):
    _, exam = two_competitions
    write_kaggle_json(fake_kaggle.home)
    fake_kaggle.kernel_status = "RUNNING"
    line = submit_to_kaggle(exam, tmp_path / "x.csv", [make_record(exam, "run-x", 0.5)],
                            config=KaggleSubmitConfig(dataset_wait_s=1, kernel_wait_s=0.05, poll_s=0.01))
    assert line.startswith(f"pushed notebook {USERNAME}/kllm-science-exam v1; still running")
    assert f"kaggle competitions submit -c kaggle-llm-science-exam -k {USERNAME}/kllm-science-exam -v 1" in line
    assert fake_kaggle.called("CreateCodeSubmission") == []
    fake_kaggle.kernel_status = "ERROR"
    with pytest.raises(UserError, match="v2 failed on Kaggle: boom"):
        submit_to_kaggle(exam, tmp_path / "x.csv", [make_record(exam, "run-x", 0.5)], config=FAST)
    assert read_runs() == []


@pytest.mark.parametrize("value", ["soon", "-5", "0", "nan", "inf"])
def test_bad_wait_setting_is_one_line(monkeypatch, value):
    monkeypatch.setenv("KLLM_KAGGLE_WAIT_S", value)
    with pytest.raises(UserError, match=f"KLLM_KAGGLE_WAIT_S should be a positive number of seconds, got '{value}'"):
        KaggleSubmitConfig()


@pytest.mark.parametrize("value, seconds", [("", 3600.0), ("  ", 3600.0), (" 60 ", 60.0)])
def test_a_blank_wait_setting_is_the_default(monkeypatch, value, seconds):
    monkeypatch.setenv("KLLM_KAGGLE_WAIT_S", value)
    assert KaggleSubmitConfig().kernel_wait_s == seconds


def test_expired_token_is_one_line(fake_kaggle, two_competitions, monkeypatch, capsys):
    llm, _ = two_competitions
    monkeypatch.setenv("KAGGLE_API_TOKEN", "expired-" + TOKEN)
    with pytest.raises(UserError) as refused:
        download_competition(llm)
    message = str(refused.value)
    assert "did not accept the credentials from KAGGLE_API_TOKEN" in message and "\n" not in message
    assert TOKEN not in message and TOKEN not in capsys.readouterr().out


def test_a_stalled_network_is_one_line_not_a_hang(fake_kaggle, two_competitions, monkeypatch):
    import socket

    from kagglesdk import kaggle_env

    from common.kaggle import client

    _, exam = two_competitions
    write_kaggle_json(fake_kaggle.home)
    silent = socket.socket()                         # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    monkeypatch.setitem(kaggle_env._env_to_endpoint, kaggle_env.KaggleEnv.LOCAL,
                        f"http://127.0.0.1:{silent.getsockname()[1]}")
    monkeypatch.setattr(client, "READ_TIMEOUT_S", 0.5)
    from requests.adapters import HTTPAdapter

    timeouts = []
    real_send = HTTPAdapter.send

    def send(self, request, **kwargs):
        timeouts.append(kwargs.get("timeout"))
        return real_send(self, request, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", send)
    try:
        with pytest.raises(UserError, match="Kaggle did not answer while trying to download the competition files"):
            download_competition(exam)
    finally:
        silent.close()
    assert timeouts and set(timeouts) == {(client.CONNECT_TIMEOUT_S, 0.5)}


def test_a_key_others_can_read_is_warned_about(fake_kaggle, two_competitions, capsys):
    write_kaggle_json(fake_kaggle.home)
    config = fake_kaggle.home / ".kaggle" / "kaggle.json"
    config.chmod(0o644)
    KaggleSession.open()
    err = capsys.readouterr().err
    assert f"warning: {config} is readable by other users: chmod 600 {config}" in err and KEY not in err


def test_a_download_keeps_the_users_own_files(fake_kaggle, two_competitions, tmp_path):
    _, exam = two_competitions
    write_kaggle_json(fake_kaggle.home)
    folder = tmp_path / "data" / "science-exam"
    (folder / "notes").mkdir(parents=True)
    (folder / "train_extra.csv").write_text("prompt\nmine\n")
    (folder / "notes" / "todo.txt").write_text("x")
    (folder / "train.csv").write_text("stale")                      # Kaggle's own name: replaced
    (folder / ".mynotes").write_text("hidden")
    said = []
    download_competition(exam, log=said.append)
    assert sorted(p.name for p in folder.iterdir()) == [".kllm-downloaded", ".mynotes", "notes", "sample_submission.csv",
                                                         "test.csv", "train.csv", "train_extra.csv"]
    assert (folder / "train_extra.csv").read_text() == "prompt\nmine\n" and (folder / "notes" / "todo.txt").exists()
    assert (folder / "train.csv").read_text() != "stale"
    assert said == [f"kept your own files in {folder}: .mynotes, notes, train_extra.csv"]


def test_a_zip_saved_from_the_website_installs_without_a_network(two_competitions, tmp_path, capsys):
    _, exam = two_competitions
    archive = tmp_path / "kaggle-llm-science-exam.zip"
    archive.write_bytes(kaggle_zip(exam))
    assert main(["data", "--comp", "science-exam", "--zip", str(archive)]) == 0
    assert capsys.readouterr().out.startswith("installed from kaggle-llm-science-exam.zip: ")
    assert sorted(p.name for p in (tmp_path / "data" / "science-exam").iterdir()) == [
        ".kllm-downloaded", "sample_submission.csv", "test.csv", "train.csv"]
    import shutil

    real = tmp_path / "bigdisk" / "science-exam"                    # data kept elsewhere behind a link
    real.mkdir(parents=True)
    shutil.rmtree(tmp_path / "data" / "science-exam")
    (tmp_path / "data" / "science-exam").symlink_to(real, target_is_directory=True)
    nested = tmp_path / "nested.zip"                                 # the files inside one folder
    with zipfile.ZipFile(nested, "w") as out, zipfile.ZipFile(archive) as inner:
        for name in inner.namelist():
            out.writestr(f"kaggle-llm-science-exam/{name}", inner.read(name))
    assert main(["data", "--comp", "science-exam", "--zip", str(nested)]) == 0
    assert (tmp_path / "data" / "science-exam").is_symlink() and (real / "train.csv").is_file()
    capsys.readouterr()
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as out:
        out.writestr("train.csv", "id,prompt\n0,x\n")
    assert main(["data", "--comp", "science-exam", "--zip", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "broken.zip" in err and ".tmp-" not in err
    (tmp_path / "notes.txt").write_text("not a zip")
    for bad, line in ((tmp_path / "nope.zip", "no such zip file"), (tmp_path / "notes.txt", "is not a zip file")):
        assert main(["data", "--comp", "science-exam", "--zip", str(bad)]) == 2
        err = capsys.readouterr().err
        assert line in err and len(err.strip().splitlines()) == 1


def _rezipped(source: bytes, target: Path, prefix: str = "", extra: dict | None = None) -> Path:
    """The zip's files under `prefix`, plus `extra` entries (name: bytes)."""
    with zipfile.ZipFile(target, "w") as out, zipfile.ZipFile(io.BytesIO(source)) as inner:
        for name in inner.namelist():
            out.writestr(prefix + name, inner.read(name))
        for name, data in (extra or {}).items():
            out.writestr(name, data)
    return target


def test_zips_as_people_make_them_install_and_bad_ones_are_one_line(two_competitions, tmp_path, capsys):
    _, exam = two_competitions
    files, folder = kaggle_zip(exam), tmp_path / "data" / "science-exam"
    macos = _rezipped(files, tmp_path / "mac.zip", "exam/", {"__MACOSX/exam/._train.csv": b"\0\5", "exam/.DS_Store": b"x"})
    deep = _rezipped(files, tmp_path / "deep.zip", "a/b/")
    extra = _rezipped(files, tmp_path / "extra.zip", "", {"readme.txt": b"from kaggle"})
    for archive in (macos, deep, extra):
        assert main(["data", "--comp", "science-exam", "--zip", str(archive)]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in folder.iterdir()) == [".kllm-downloaded", "readme.txt", "sample_submission.csv",
                                                     "test.csv", "train.csv"]
    assert "kept your own files" not in capsys.readouterr().out      # what the zips brought is not the user's
    (folder / "mine.txt").write_text("mine")
    (folder / ".DS_Store").write_text("left by an older install")
    assert main(["data", "--comp", "science-exam", "--zip", str(macos)]) == 0
    out = capsys.readouterr().out                                    # nothing deleted, nothing mislabelled
    assert f"kept your own files in {folder}: mine.txt\n" in out
    assert f"kept what an earlier download or zip brought to {folder} and this one lacks (remove it if it is not " \
           f"yours): readme.txt" in out
    assert (folder / "readme.txt").exists() and not (folder / "__MACOSX").exists() and not (folder / ".DS_Store").exists()

    two = _rezipped(files, tmp_path / "two.zip", "x/", {"y/notes.txt": b"n"})
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("train.csv", "id,prompt\n" + "".join(f"{i},{'word ' * (i % 50)}{i}\n" for i in range(3000)))
    corrupt = bytearray(big.read_bytes())
    corrupt[200:400] = bytes(b ^ 0xFF for b in corrupt[200:400])
    (tmp_path / "corrupt.zip").write_bytes(bytes(corrupt))
    (tmp_path / "folder.zip").mkdir()
    for bad, line in ((two, "(its top level holds the folders x/, y/)"), (tmp_path / "corrupt.zip", "not a valid zip file"),
                      (tmp_path / "folder.zip", "is a folder, not a zip file")):
        assert main(["data", "--comp", "science-exam", "--zip", str(bad)]) == 2
        err = capsys.readouterr().err
        assert line in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert (folder / "mine.txt").is_file()                            # every refusal left the folder as it was
    import shutil

    shutil.rmtree(folder)
    folder.write_text("a file where the folder goes")
    assert main(["data", "--comp", "science-exam", "--zip", str(macos)]) == 2
    assert "is a file, not a folder: move it away" in capsys.readouterr().err and folder.is_file()


def test_kaggle_submit_refuses_the_sample_and_an_unreachable_competition_before_any_work(
        fake_kaggle, two_competitions, tmp_path, capsys):
    llm, _ = two_competitions
    write_kaggle_json(fake_kaggle.home)
    out = tmp_path / "s.csv"
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--fast", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--kaggle submits to the real competition, but this run would read the embedded sample" in err
    assert "make data COMP=predict-the-llm" in err and len(err.strip().splitlines()) == 1
    import shutil

    from common.sources.samples import COUNTS_BEGIN

    draw = tmp_path / "draw"                                          # as make dataset ... OUT=draw leaves it
    shutil.copytree(llm.sample_dir, draw)
    (draw / "test.csv").write_text((draw / "test.csv").read_text() + "\n")    # not byte-identical: "custom"
    (draw / "COUNTS.md").write_text(COUNTS_BEGIN + "\n| file | rows |\n")
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--data", str(draw), "--out", str(out)]) == 2
    assert f"{draw} is a draw of make dataset (its COUNTS.md), not Kaggle's files" in capsys.readouterr().err
    download_competition(llm, log=lambda line: None)
    fake_kaggle.not_joined.add(llm.kaggle_slug)
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--fast", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "list your submissions (checked before the run)" in err and "join the competition" in err
    assert not out.exists() and read_runs() == []                  # refused before the solution ran


def test_kaggle_submit_refuses_what_the_notebook_would_not_have_before_any_work(fake_kaggle, tmp_path, capsys):
    import shutil

    write_kaggle_json(fake_kaggle.home)
    detect = get_competition("detect-ai-text")
    folder = tmp_path / "data" / "detect-ai-text"
    shutil.copytree(detect.sample_dir, folder)
    (folder / "test_essays.csv").write_text((folder / "test_essays.csv").read_text() + "\n")   # not the sample's bytes
    (folder / "train_extra.csv").write_text("text,generated\nan essay,1\n")
    out = tmp_path / "s.csv"
    assert main(["submit", "--comp", "detect-ai-text", "--kaggle", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"train_extra.csv beside the data would not be in the Kaggle notebook: name it with --set extra_train={folder}" in err
    exam = get_competition("science-exam")
    shutil.copytree(exam.sample_dir, tmp_path / "data" / "science-exam")
    exam_test = tmp_path / "data" / "science-exam" / "test.csv"
    exam_test.write_text(exam_test.read_text() + "\n")
    assert main(["submit", "--comp", "science-exam", "--kaggle", "--out", str(out),
                 "--set", f"corpus={folder / 'train_extra.csv'}"]) == 2
    err = capsys.readouterr().err
    assert "names a path on this machine, which the Kaggle notebook will not have" in err
    import polars as pl

    corpus = tmp_path / "data" / "science-exam" / "corpus.parquet"
    pl.read_parquet(corpus).head(500).write_parquet(corpus)                  # a corpus of the user's own
    assert main(["submit", "--comp", "science-exam", "--kaggle", "--out", str(out)]) == 2
    assert "corpus.parquet beside the data would not be in the Kaggle notebook, which would read the sample's" \
        in capsys.readouterr().err
    assert not out.exists() and fake_kaggle.calls == []


def test_resend_sends_the_last_runs_file_again_without_solving(fake_kaggle, two_competitions, tmp_path, capsys):
    from common.data import file_sha256

    llm, _ = two_competitions
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend"]) == 2
    assert "no Kaggle credentials" in capsys.readouterr().err                # refused, not "not submitted" and 0
    write_kaggle_json(fake_kaggle.home)
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend"]) == 2
    assert "no recorded run of predict-the-llm wrote a submission" in capsys.readouterr().err
    csv = tmp_path / "sub.csv"
    csv.write_text("id,target_0\n0,1.0\n")
    sample_run = make_record(llm, "run-on-sample", 1.5)
    sample_run.data_source = "sample"
    append_run(sample_run)
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend"]) == 2
    assert "read the embedded sample: nothing to send" in capsys.readouterr().err
    run = make_record(llm, "run-real", 1.2)
    run.extra.update(submission_path=str(csv), submission_sha256=file_sha256(csv), models=[])
    append_run(run)
    assert main(["submit", "--comp", "predict-the-llm", "--resend"]) == 2
    assert "--resend goes with --kaggle" in capsys.readouterr().err
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sending run run-real again") and "submitted to Kaggle h2oai-predict-the-llm" in out
    (create,) = fake_kaggle.called("CreateSubmission")
    assert fake_kaggle.blobs[create["blobFileTokens"]] == csv.read_bytes() and "run=run-real" in create["submissionDescription"]
    fast_csv = tmp_path / "fast.csv"                                          # a later --fast check
    fast_csv.write_text("id,target_0\n0,0.9\n")
    fast = make_record(llm, "run-fast", 1.4)
    fast.extra.update(submission_path=str(fast_csv), submission_sha256=file_sha256(fast_csv), models=[], fast=True)
    append_run(fast)
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend"]) == 0   # still the full run
    assert capsys.readouterr().out.startswith("sending run run-real again")
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend", "--fast"]) == 0
    assert "sending run run-fast again (tfidf, kaggle data, a --fast run, " in capsys.readouterr().out
    assert fake_kaggle.blobs[fake_kaggle.called("CreateSubmission")[-1]["blobFileTokens"]] == fast_csv.read_bytes()
    csv.write_text("id,target_0\n0,0.5\n")
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend"]) == 2
    assert "is not the file run run-real wrote (changed since)" in capsys.readouterr().err
    assert len(fake_kaggle.called("CreateSubmission")) == 3


def test_notebook_only_builds_the_last_runs_bundle_without_a_network(fake_kaggle, two_competitions, tmp_path, capsys):
    llm, exam = two_competitions
    write_kaggle_json(fake_kaggle.home)
    run = make_record(exam, "run-exam", 0.6)
    assert main(["submit", "--comp", "science-exam", "--notebook-only"]) == 2          # no run recorded yet
    assert "no recorded run of science-exam" in capsys.readouterr().err
    append_run(run)
    assert main(["submit", "--comp", "science-exam", "--notebook-only"]) == 2          # a run from before --resend
    assert "was recorded before runs kept what sending again needs" in capsys.readouterr().err
    run.extra.update(submission_path="", models=[])
    append_run(run)
    assert main(["submit", "--comp", "science-exam", "--notebook-only", "--folds", "3"]) == 2
    assert "--notebook-only takes a recorded run as it was: --folds would not apply" in capsys.readouterr().err
    assert main(["submit", "--comp", "science-exam", "--notebook-only", "--fast"]) == 2
    assert "no recorded --fast run of science-exam wrote a submission (only full runs: drop --fast)" in capsys.readouterr().err
    assert main(["submit", "--comp", "science-exam", "--notebook-only", "--kaggle"]) == 2
    assert "--notebook-only sends nothing: drop --kaggle" in capsys.readouterr().err
    assert main(["submit", "--comp", "science-exam", "--notebook-only", "--kaggle", "--resend"]) == 2
    assert "give one" in capsys.readouterr().err
    assert main(["submit", "--comp", "science-exam", "--notebook-only"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "note: the notebook carries this checkout's code (commit" in captured.err   # not the run's c0ffee123456
    folder = tmp_path / "submissions" / "science-exam" / "kaggle-notebook"
    assert out.startswith(f"notebook of run run-exam (tfidf) for {USERNAME}: {folder}")
    assert f"kaggle kernels push -p {folder / 'kernel'}" in out
    assert (folder / "dataset" / "kllm_bundle.zip").is_file() and fake_kaggle.calls == []
    assert main(["submit", "--comp", "predict-the-llm", "--notebook-only"]) == 2
    assert "takes a CSV on Kaggle, not a notebook" in capsys.readouterr().err
    beside = make_record(exam, "run-beside", 0.6)                  # read train_extra.csv beside the data
    beside.data_source = "kaggle+extra"
    beside.extra.update(submission_path="", models=[])
    append_run(beside)
    assert main(["submit", "--comp", "science-exam", "--notebook-only"]) == 2
    assert "run run-beside took extra rows from train_extra.csv or train_extra.parquet beside the data, which the " \
           "Kaggle notebook would not have" in capsys.readouterr().err
    corpus = make_record(exam, "run-corpus", 0.6)                  # read its own corpus.parquet beside the data
    corpus.data_source = "kaggle"
    corpus.extra.update(submission_path="", models=[], side_files=["corpus.parquet"], data_path="/data/exam")
    append_run(corpus)
    assert main(["submit", "--comp", "science-exam", "--notebook-only"]) == 2
    assert "run run-corpus: corpus.parquet beside the data would not be in the Kaggle notebook, which would read " \
           "the sample's instead: move it out of /data/exam and run again" in capsys.readouterr().err


def test_an_encrypted_zip_is_one_line(two_competitions, tmp_path, capsys, monkeypatch):
    def password_required(self, *args, **kwargs):
        raise RuntimeError("File 'train.csv' is encrypted, password required for extraction")

    monkeypatch.setattr(zipfile.ZipFile, "extractall", password_required)
    archive = _rezipped(kaggle_zip(two_competitions[1]), tmp_path / "locked.zip")
    assert main(["data", "--comp", "science-exam", "--zip", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "locked.zip: cannot unpack it here (File 'train.csv' is encrypted" in err and err.count("\n") == 1


def test_notebook_only_builds_a_sample_runs_bundle_to_read_saying_it_solves_again_there(fake_kaggle, two_competitions,
                                                                                         tmp_path, capsys):
    llm, exam = two_competitions
    run = make_record(exam, "run-sample", 0.6)
    run.data_source = "sample"
    run.extra.update(submission_path="", models=[])
    append_run(run)
    assert main(["submit", "--comp", "science-exam", "--notebook-only"]) == 0
    captured = capsys.readouterr()
    assert "run run-sample read the embedded sample; its notebook solves again on Kaggle's files" in captured.err
    assert captured.out.startswith("notebook of run run-sample (tfidf) for YOUR_KAGGLE_USERNAME") and fake_kaggle.calls == []
    write_kaggle_json(fake_kaggle.home)
    assert main(["submit", "--comp", "science-exam", "--kaggle", "--resend"]) == 2          # sending it stays refused
    assert "read the embedded sample: nothing to send to Kaggle" in capsys.readouterr().err


def test_resending_a_csv_competitions_data_run_sends_its_own_file_without_a_rerun_note(fake_kaggle, two_competitions,
                                                                                      tmp_path, capsys):
    from common.data import file_sha256

    llm, _ = two_competitions
    write_kaggle_json(fake_kaggle.home)
    csv = tmp_path / "sub.csv"
    csv.write_text("id,target_0\n0,1.0\n")
    run = make_record(llm, "run-custom", 1.2)
    run.data_source = "custom"
    run.extra.update(submission_path=str(csv), submission_sha256=file_sha256(csv), models=[])
    append_run(run)
    assert main(["submit", "--comp", "predict-the-llm", "--kaggle", "--resend"]) == 0
    assert "solves again" not in capsys.readouterr().err          # the CSV itself goes: nothing is solved again
