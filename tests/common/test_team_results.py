"""Whose runs: the recorded author, and teammates' results stores read beside your own."""
import json
import subprocess
from pathlib import Path

import pytest

from common.errors import UserError
from common.results import append_run, read_runs
from common.team_results import NOT_RECORDED, parse_store, read_team_runs, run_author, shown_author
from fakes.runs import make_run


def test_kllm_author_wins_and_one_that_is_no_name_is_refused(monkeypatch):
    monkeypatch.setenv("KLLM_AUTHOR", "  Ada Lovelace ")
    assert run_author() == "Ada Lovelace"
    for bad in ("Ada\nLovelace", "Ada\x1b[31m", "A" * 41, "live\u202e"):
        monkeypatch.setenv("KLLM_AUTHOR", bad)
        with pytest.raises(UserError, match="KLLM_AUTHOR=.* is not a name"):
            run_author()


def test_without_kllm_author_gits_name_then_the_login_name(monkeypatch, tmp_path):
    import common.team_results as team

    monkeypatch.delenv("KLLM_AUTHOR", raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.setattr(team, "repo_root", lambda: repo)
    monkeypatch.setattr(team.getpass, "getuser", lambda: "kuser")
    assert run_author() == "kuser"                               # no user.name anywhere
    subprocess.run(["git", "-C", str(repo), "config", "user.name", "Grace Hopper"], check=True)
    assert run_author() == "Grace Hopper"

    def no_passwd_entry():
        raise KeyError("getpwuid(): uid not found: 1234")

    monkeypatch.setattr(team, "repo_root", lambda: tmp_path / "not-a-checkout")
    monkeypatch.setattr(team.getpass, "getuser", no_passwd_entry)
    assert run_author() == ""


def _store(path, *runs):
    path.parent.mkdir(parents=True, exist_ok=True)
    for run in runs:
        append_run(run, path)
    return path


def test_a_store_is_a_file_or_a_folder_holding_runs_jsonl_named_by_the_caller_or_its_path(tmp_path):
    _store(tmp_path / "alice" / "runs.jsonl", make_run(run_id="a1"))
    _store(tmp_path / "bob.jsonl", make_run(run_id="b1"))
    _store(tmp_path / "x=y" / "runs.jsonl", make_run(run_id="c1"))
    assert parse_store(str(tmp_path / "alice")).name == "alice"
    assert parse_store(str(tmp_path / "alice" / "runs.jsonl")).name == "alice"
    assert parse_store(str(tmp_path / "bob.jsonl")) == parse_store(f"bob={tmp_path / 'bob.jsonl'}")
    named = parse_store(f" Carol M. = {tmp_path / 'alice'}")
    assert (named.name, named.path) == ("Carol M.", tmp_path / "alice" / "runs.jsonl")
    assert parse_store(str(tmp_path / "x=y")).path == tmp_path / "x=y" / "runs.jsonl"   # '=' after a '/': a path
    _store(tmp_path / "bobclone" / "results" / "runs.jsonl", make_run(run_id="d1"))
    assert parse_store(str(tmp_path / "bobclone" / "results")).name == "bobclone"   # a checkout's results/
    assert parse_store(str(tmp_path / "bobclone" / "results" / "runs.jsonl")).name == "bobclone"


def test_a_relative_path_with_an_equals_sign_is_a_path_when_it_exists(tmp_path, monkeypatch):
    _store(tmp_path / "eq=dir" / "runs.jsonl", make_run(run_id="e1"))
    monkeypatch.chdir(tmp_path)
    assert parse_store("eq=dir").path == Path("eq=dir/runs.jsonl")


def test_two_stores_of_one_name_are_refused_unless_named(tmp_path):
    for who in ("alice", "bob"):
        _store(tmp_path / who / "results" / "runs.jsonl", make_run(run_id=who))
    alice, bob = tmp_path / "alice" / "results", tmp_path / "bob" / "results"
    same = [parse_store(f"x={alice}"), parse_store(f"x={bob}")]
    with pytest.raises(UserError, match="two stores are both named 'x'.*NAME=PATH"):
        read_team_runs(same, own=tmp_path / "mine.jsonl")
    with pytest.raises(UserError, match="two stores are both named 'X'"):         # one author once read
        read_team_runs([parse_store(f"x={alice}"), parse_store(f"X={bob}")], own=tmp_path / "mine.jsonl")
    runs, _ = read_team_runs([parse_store(str(alice)), parse_store(str(bob))], own=tmp_path / "mine.jsonl")
    assert {r.author for r in runs} == {"alice", "bob"}


@pytest.mark.parametrize("given, message", [
    ("{tmp}/missing.jsonl", "no results store at"),
    ("{tmp}", "no results store at"),                        # a folder without runs.jsonl
    ("{tmp}/board.png", "is not a results store"),
    ("{tmp}/sub.csv", "is not a results store"),
    ("=/x", "the name before '='"),
    ("alice=", "no path to a results store"),
])
def test_a_store_that_is_not_one_is_one_line(tmp_path, given, message):
    (tmp_path / "board.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (tmp_path / "sub.csv").write_text("id,prediction\n1,0.5\n")
    with pytest.raises(UserError, match=message) as err:
        parse_store(given.format(tmp=tmp_path))
    assert "\n" not in str(err.value)


def test_your_runs_come_first_each_run_once_and_a_run_without_an_author_takes_its_stores_name(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_AUTHOR", "me")
    own = _store(tmp_path / "mine" / "runs.jsonl", make_run(run_id="m1"), make_run(run_id="m2", author="me"))
    alice = _store(tmp_path / "alice" / "runs.jsonl", make_run(run_id="a1"), make_run(run_id="m1", cv=0.9))
    copied = _store(tmp_path / "copy.jsonl", *read_runs(own))
    runs, lines = read_team_runs([parse_store(str(alice)), parse_store(f"bob={copied}")], own=own)
    assert [(r.run_id, r.author, r.cv) for r in runs] == [("m1", "me", 0.5), ("m2", "me", 0.5), ("a1", "alice", 0.5)]
    assert lines == [f"store: {own} (yours: 2 run(s): me 2)",
                     f"store: {alice} (alice: 1 run(s): alice 1, 1 already read from another store)",
                     f"store: {copied} (bob: 0 run(s), 2 already read from another store)"]
    assert [json.loads(line)["run_id"] for line in own.read_text().splitlines()] == ["m1", "m2"]   # read, not written


def test_a_shared_stores_runs_from_before_authors_are_nobodys(tmp_path, monkeypatch):
    shared = _store(tmp_path / "shared.jsonl", make_run(run_id="old"), make_run(run_id="a", author="alice"),
                    make_run(run_id="b", author="bob"))
    for me in ("alice", "bob"):                     # whoever looks, the old run is not theirs
        monkeypatch.setenv("KLLM_AUTHOR", me)
        runs, _ = read_team_runs([], own=shared)
        assert {r.run_id: r.author for r in runs} == {"old": NOT_RECORDED, "a": "alice", "b": "bob"}


def test_a_copy_of_a_run_elsewhere_brings_the_kaggle_scores_the_first_lacks(tmp_path, monkeypatch):
    from common.results import update_scores

    monkeypatch.setenv("KLLM_AUTHOR", "me")
    own = _store(tmp_path / "mine.jsonl", make_run(run_id="r1"))
    carol = _store(tmp_path / "carol.jsonl", make_run(run_id="r1"))
    update_scores("r1", public=0.61, private=0.6, path=carol)
    runs, _ = read_team_runs([parse_store(str(carol))], own=own)
    assert [(r.run_id, r.public, r.private, r.author) for r in runs] == [("r1", 0.61, 0.6, "me")]


def test_recorded_authors_are_shown_without_hidden_characters_blanks_or_length(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_AUTHOR", "me")
    assert shown_author(" dave\u202e ") == "dave" and shown_author("x" * 300) == "x" * 40
    assert shown_author(None) == "" and shown_author("\u200b") == ""
    store = _store(tmp_path / "t.jsonl", make_run(run_id="blank", author="   "), make_run(run_id="long", author="y" * 300),
                   make_run(run_id="rlo", author="\u202eevil"))
    runs, _ = read_team_runs([parse_store(f"team={store}")], own=tmp_path / "mine.jsonl")
    assert {r.run_id: r.author for r in runs} == {"blank": "team", "long": "y" * 40, "rlo": "evil"}


def test_a_store_of_kaggle_score_lines_only_files_them_under_runs_kept_in_another(tmp_path, monkeypatch, capsys):
    from common.results import update_scores

    monkeypatch.setenv("KLLM_AUTHOR", "me")
    own = _store(tmp_path / "mine.jsonl", make_run(run_id="r1"), make_run(run_id="r2", metric="map@3"))
    update_scores("r2", public=0.7, private=None, path=own)
    scores = tmp_path / "scores.jsonl"
    update_scores("r1", public=0.5, private=None, path=scores)
    update_scores("r1", public=0.61, private=0.6, path=scores)              # the store's later line wins
    update_scores("r2", public=0.1, private=0.65, path=scores)      # r2's own public stays; its private is new
    update_scores("r2", public=None, private=7.0, path=scores)      # outside map@3's range: skipped, said
    update_scores("gone", public=0.5, private=0.5, path=scores)
    runs, lines = read_team_runs([parse_store(f"kaggle={scores}")], own=own)
    assert [(r.run_id, r.public, r.private) for r in runs] == [("r1", 0.61, 0.6), ("r2", 0.7, 0.65)]
    assert lines[1] == f"store: {scores} (kaggle: 0 run(s), 1 Kaggle score line(s) for runs in no store read)"
    assert f"{scores}: skipped the private score of run r2: 7 is outside" in capsys.readouterr().err


def test_authors_differing_only_in_case_or_unicode_form_are_one(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_AUTHOR", "dave")
    own = _store(tmp_path / "mine.jsonl", make_run(run_id="d1"), make_run(run_id="d2", author="DAVE"))
    team = _store(tmp_path / "team.jsonl", make_run(run_id="j1", author="Jos\u00e9"), make_run(run_id="j2", author="Jose\u0301"),
                  make_run(run_id="j3", author="dave"))
    runs, lines = read_team_runs([parse_store(f"team={team}")], own=own)
    assert {r.run_id: r.author for r in runs} == {"d1": "dave", "d2": "dave", "j1": "Jos\u00e9", "j2": "Jos\u00e9",
                                                  "j3": "dave"}
    assert lines[0] == f"store: {own} (yours: 2 run(s): dave 2)"      # DAVE's run in your store is yours, not shared


def test_a_null_author_is_no_author_recorded(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_AUTHOR", "me")
    store = tmp_path / "t.jsonl"
    line = {**json.loads(json.dumps(make_run(run_id="n1").__dict__)), "author": None}
    store.write_text(json.dumps(line) + "\n")
    runs, _ = read_team_runs([parse_store(f"team={store}")], own=tmp_path / "mine.jsonl")
    assert [(r.run_id, r.author) for r in runs] == [("n1", "team")]


def test_with_a_competition_the_store_lines_count_only_its_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_AUTHOR", "me")
    own = _store(tmp_path / "mine.jsonl", make_run(run_id="m1", competition="science-exam"),
                 make_run(run_id="m2", competition="detect-ai-text"))
    bob = _store(tmp_path / "bob.jsonl", make_run(run_id="b1", competition="detect-ai-text", author="bob"))
    runs, lines = read_team_runs([parse_store(str(bob))], own=own, competition="science-exam")
    assert [r.run_id for r in runs] == ["m1"]
    assert lines == [f"store: {own} (yours: 1 run(s): me 1)", f"store: {bob} (bob: 0 run(s))"]
