from bench import lm_features_q41


def test_without_a_predict_the_llm_edge_build_it_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(lm_features_q41, "BUILD", tmp_path / "nothing")
    assert lm_features_q41.main([]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "make edge COMP=predict-the-llm" in err


def test_a_bad_flag_is_one_line(capsys):
    for argv in (["--accuracy-level", "2"], ["--head"], ["--seed", "x"], ["--seed", "-1"]):
        assert lm_features_q41.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: kllm bench lm_features_q41: ") and err.count("\n") == 1, (argv, err)
