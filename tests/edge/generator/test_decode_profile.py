"""The decode profile splits a token's time into kernels, onnxruntime's own work and the runtime's
Python, and names the weight-reading kernels; its command line refuses what is not a model folder."""
import pytest

from edge.generator.profile import WEIGHT_OPS, decode_profile, format_profiles, main


def test_a_tokens_time_nests_kernels_in_runs_and_the_weight_kernels_are_found(tiny_exports):
    p = decode_profile(tiny_exports["int4"], threads=1, new_tokens=8)
    assert p["tokens"] == 7 and p["kernels_ms"]
    assert p["ms_per_token"] >= p["run_ms"] >= p["kernel_ms"] > 0          # kernels nest in runs, runs in the token
    assert "MatMulNBits" in p["kernels_ms"] and 0 < p["weight_kernels_ms"] <= p["kernel_ms"]
    assert p["weights_gb_s"] > 0 and p["nodes_per_token"] > 10
    table = format_profiles({"tiny int4": p})
    assert table.splitlines()[2].startswith("| tiny int4 | ") and not any(op + " " in table for op in WEIGHT_OPS[:1])


def test_the_command_line_refuses_a_folder_without_a_model(tmp_path, capsys):
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not model folders" in err


def test_a_bad_flag_or_count_is_one_line(tiny_exports, capsys):
    folder = str(next(iter(tiny_exports.values())))
    for argv in ([folder, "--threads", "0"], [folder, "--new-tokens", "1"], [folder, "--thread", "1"], []):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
