"""`kllm chat` (behind `make chat`): one line and exit 2 on bad input. A variant answered here, on the
emulated Pi and over ssh: tests/edge/generator/test_chat.py (it has the tiny Llama)."""
from __future__ import annotations

import pytest

from cli.main import main


@pytest.mark.parametrize("argv, message", [
    (["--variant", "int5"], "error: no chat variant 'int5'; one of fp32, int8"),
    (["--prompt", " "], "error: --prompt is empty"),
    (["--max-new-tokens", "0"], "error: --max-new-tokens and --threads must be at least 1"),
    (["--device", "pi@host", "--emulated"], "not allowed with argument"),
    (["--device", "@"], "error: bad device '@': want user@host"),                     # before any export
    (["--device", "pi@host", "--root", "a;b"], "error: unsafe device root 'a;b'"),
    (["--history", "--prompt", "Hi"], "error: --history goes with questions on stdin, not --prompt"),
    (["--system", "  "], "error: --system is blank"),
    (["--root", "/tmp/x"], "error: --root names a device folder: give it with --device or --emulated"),
    (["--temperature", "-1"], "error: --temperature must be 0 (greedy) or more, got -1.0"),
    (["--top-p", "0"], "error: --top-p must be above 0 and at most 1, got 0.0"),
    (["--repetition-penalty", "x"], "--repetition-penalty: invalid float value: 'x'"),
    (["--no-repeat-ngram", "-1"], "error: --no-repeat-ngram must be 0 (no ban) or more, got -1"),
    (["--top-k", "40"], "error: --top-k, --top-p and --seed shape a draw: give them with --temperature above 0"),
])
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys):
    try:
        code = main(["chat", *argv])
    except SystemExit as exc:                                         # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_a_closed_stdin_is_refused_before_the_model_is_built(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", None)                             # started with <&-
    assert main(["chat", "--device", "pi@host"]) == 2
    assert capsys.readouterr().err == "error: stdin is closed: give questions one a line on stdin, or PROMPT=... (--prompt)\n"


def test_an_unreachable_device_is_refused_before_the_model_is_exported(monkeypatch, capsys):
    import edge.generator.export as export

    monkeypatch.setattr(export, "build_variant", lambda *a, **k: pytest.fail("exported before the device answered"))
    assert main(["chat", "--device", "pi@127.0.0.1:1", "--prompt", "Hi"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach pi@127.0.0.1:1" in err and err.count("error:") == 1



@pytest.mark.parametrize("where", [[], ["--emulated"]])
def test_more_threads_than_the_cores_are_refused_before_the_model_is_built(where, monkeypatch, capsys):
    import os

    import edge.generator.export as export

    monkeypatch.setattr(export, "build_variant", lambda *a, **k: pytest.fail("built a model"))
    n = 4 * (os.cpu_count() or 1) + 1
    assert main(["chat", *where, "--threads", str(n), "--prompt", "Hi"]) == 2
    assert f"--threads {n} is more than " in capsys.readouterr().err
