"""`kllm data --comp SLUG` against the loopback stand-in for Kaggle.

(Named test_data_cmd.py: tests/common/test_data.py already holds the module name test_data.)
"""
from cli.main import main
from common.registry import get_competition
from fakes.kaggle_server import KEY, fake_kaggle, write_kaggle_json  # noqa: F401
from fakes.tiny_data import kaggle_zip


def test_download_and_check(fake_kaggle, tmp_path, capsys):
    exam = get_competition("science-exam")
    fake_kaggle.add_competition(exam.kaggle_slug, kaggle_zip(exam, rows=3))
    write_kaggle_json(fake_kaggle.home)
    assert main(["data", "--comp", "science-exam"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("downloaded: real Kaggle files in ")
    assert "train 3 rows" in out and "test 3 rows" in out
    assert (tmp_path / "data" / "science-exam" / "train.csv").is_file()


def test_without_credentials_one_line(fake_kaggle, tmp_path, capsys):
    assert main(["data", "--comp", "science-exam"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and "KAGGLE_API_TOKEN" in captured.err and captured.out == ""
    assert not (tmp_path / "data" / "science-exam").exists()


def test_not_joined_one_line(fake_kaggle, tmp_path, capsys):
    exam = get_competition("science-exam")
    fake_kaggle.add_competition(exam.kaggle_slug, kaggle_zip(exam))
    fake_kaggle.not_joined.add(exam.kaggle_slug)
    write_kaggle_json(fake_kaggle.home)
    assert main(["data", "--comp", "science-exam"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "join the competition on the website first" in err and KEY not in err
    assert list((tmp_path / "data").iterdir()) == []


def test_unknown_competition(capsys):
    assert main(["data", "--comp", "titanic"]) == 2
    assert "unknown competition" in capsys.readouterr().err
