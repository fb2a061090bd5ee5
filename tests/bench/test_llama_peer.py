"""The llama.cpp peer is opt-in: without llama-cpp-python it says how to get it in one line."""
import builtins
import subprocess
import types

import pytest

from common.errors import UserError
from edge.generator import llama_peer


def test_without_the_package_it_names_the_extra(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_llama(name, *args, **kwargs):
        if name == "llama_cpp":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama)
    with pytest.raises(UserError, match=r"llama-cpp-python.*pip install -e \.\[llama\]"):
        llama_peer.gguf_variants(tmp_path / "model.gguf", tmp_path)


def test_bad_flags_are_user_errors():
    from bench.llama_peer import main

    with pytest.raises(UserError, match="--onnx must start with fp32"):
        main(["--onnx", "int4,fp32"])
    for args in (["--rounds", "0"], ["--eval-tokens", "10"]):
        with pytest.raises(UserError, match="--rounds must be at least 1 and --eval-tokens at least 64"):
            main(args)


@pytest.mark.parametrize("info, fragment", [(b"AVX2 = 1 | AMX_INT8 = 1 |", "AMX kernels.*GGML_NATIVE=OFF"),
                                            (b"AVX2 = 1 |", "last output: boom")])
def test_a_llama_cpp_that_crashes_is_one_line_with_the_cure(monkeypatch, tmp_path, info, fragment):
    crashed = subprocess.CompletedProcess([], returncode=-11, stdout="", stderr="boom")
    monkeypatch.setattr(llama_peer.subprocess, "run", lambda *a, **k: crashed)
    monkeypatch.setattr(llama_peer, "llama_cpp", lambda: types.SimpleNamespace(llama_print_system_info=lambda: info))
    with pytest.raises(UserError, match=rf"died \(signal SIGSEGV\) decoding m.gguf; .*{fragment}"):
        llama_peer.check_decodes(tmp_path / "m.gguf")


def test_a_llama_cpp_that_decodes_passes_the_check(monkeypatch, tmp_path):
    monkeypatch.setattr(llama_peer.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess([], returncode=0))
    assert llama_peer.check_decodes(tmp_path / "m.gguf") is None
