"""`kllm data --comp SLUG` against the loopback stand-in for Kaggle.

(Named test_data_cmd.py: tests/common/test_data.py already holds the module name test_data.)
"""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

from cli.main import main
from common.registry import get_competition
from fakes.kaggle_server import KEY, fake_kaggle, write_kaggle_json  # noqa: F401
from fakes.tiny_data import kaggle_zip

REPO = Path(__file__).resolve().parents[2]


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


def test_without_credentials_a_real_run_prints_exactly_one_line(tmp_path):
    """The `kaggle` package prints 15 lines of login help when imported without credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KAGGLE_")}
    env.update(HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"))
    done = subprocess.run([sys.executable, "-m", "cli", "data", "--comp", "science-exam"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: no Kaggle credentials"), done.stderr


def test_makefile_install_check_never_imports_kaggle():
    line = next(line for line in (REPO / "Makefile").read_text().splitlines()
                if "$(PY) -c" in line and "transformers" in line)
    code = re.search(r'-c "([^"]*)"', line).group(1)
    imported = {alias.name for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(ast.parse(code)) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name == "kaggle" or name.startswith("kaggle.")}, code
    assert "find_spec('kaggle')" in code
