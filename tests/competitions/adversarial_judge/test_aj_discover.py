import json

from competitions.adversarial_judge import attacks, discover
from fakes.judges import FAKE_PANEL, fake_panel  # noqa: F401


def test_candidates_are_distinct_seeded_compositions_of_library_sentences():
    first = discover.candidates(30, seed=4)
    assert first == discover.candidates(30, seed=4) and len(set(first)) == 30
    pool = discover.sentences()
    assert all(any(s in c for s in pool) for c in first)


def test_discovery_keeps_an_attack_for_each_direction_of_each_judge_pair(fake_panel, monkeypatch, tmp_path):
    monkeypatch.setattr(discover, "DEVELOPMENT_PANEL", FAKE_PANEL)
    monkeypatch.setattr(discover, "OUT", tmp_path / "discovered.json")
    assert discover.main(["--candidates", "12", "--keep", "4", "--seed", "1"]) == 0
    record = json.loads((tmp_path / "discovered.json").read_text())
    splits = {a["split"] for a in record["attacks"]}
    assert splits == {"up>down", "down>up"}
    assert {j for j, _ in fake_panel.pairs} == set(discover.DISCOVERY_TOPICS)   # never a test topic
    up_over_down = next(a for a in record["attacks"] if a["split"] == "up>down")["mean_scores"]
    assert up_over_down[0] > up_over_down[1]


def test_the_committed_discoveries_are_composed_attacks_of_the_library():
    found = json.loads(attacks.DISCOVERED.read_text())["attacks"]
    composed = [a for a in attacks.ATTACKS.values() if a.family == "composed"]
    assert [a.body("x") for a in composed] == [f["text"] for f in found]


def test_a_bad_flag_or_count_is_one_line_before_any_judge_runs(capsys):
    for argv in (["--candidates", "0"], ["--keep", "0"], ["--cand", "3"], ["--seed", "x"]):
        assert discover.main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, (argv, err)
