"""The confusion report's command line: bad input is one line and exit 2, and no PNG is left."""
from competitions.predict_the_llm import report


def test_a_missing_file_or_a_bad_flag_is_one_line_and_draws_nothing(tmp_path, capsys):
    out = tmp_path / "confusion.png"
    for argv in (["--pred", str(tmp_path / "none.csv"), "--out", str(out)], ["--pre", "x.csv"], ["--bogus"]):
        assert report.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
    assert not out.exists()
