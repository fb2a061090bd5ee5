"""Named experiments load their overrides, and every committed experiment file is valid."""
import importlib

import pytest

import competitions  # noqa: F401  (fills the registry)
from common.errors import UserError
from common.experiments import list_experiments, load_experiment
from common.registry import Competition, all_competitions
from common.schema import CompetitionSchema, SubmissionSchema


def _competition(tmp_path) -> Competition:
    (tmp_path / "sample").mkdir()
    return Competition(slug="demo", kaggle_slug="demo", title="Demo", schema=CompetitionSchema(tables={}, submission=SubmissionSchema("id", ("p",), "text")),
                       metric="map@3", sample_dir=tmp_path / "sample")


def test_an_experiment_file_becomes_set_options(tmp_path):
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "short.toml").write_text(
        'description = "short context"\nfolds = 4\n[set]\ncontext_words = 60\ncontrols = true\nlm = "smollm2"\n')
    competition = _competition(tmp_path)
    exp = load_experiment(competition, "short")
    assert exp.options == {"context_words": "60", "controls": "true", "lm": "smollm2"}
    assert exp.folds == 4 and exp.description == "short context"
    assert exp.banner() == "experiment short: short context (short.toml)"
    (tmp_path / "experiments" / "bare.toml").write_text("[set]\ncontrols = true\n")
    assert load_experiment(competition, "bare").banner() == "experiment bare (bare.toml)"   # no ":  ("


@pytest.mark.parametrize("text, message", [
    ("[set\n", "not a valid TOML"),
    ("seed = 3\n", "unknown key"),
    ('folds = "x"\n', "folds must be an integer"),
])
def test_bad_experiment_files_are_user_errors(tmp_path, text, message):
    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / "bad.toml").write_text(text)
    with pytest.raises(UserError, match=message):
        load_experiment(_competition(tmp_path), "bad")


def test_an_unknown_experiment_names_the_known_ones(tmp_path):
    with pytest.raises(UserError, match="no experiment 'nope'; known: none"):
        load_experiment(_competition(tmp_path), "nope")


def test_every_committed_experiment_names_only_options_its_solution_knows():
    from common.solution import RunContext

    checked = 0
    for competition in all_competitions():
        for name in list_experiments(competition):
            exp = load_experiment(competition, name)
            assert exp.description, f"{competition.slug}/{name} needs a description"
            solution = importlib.import_module(competition.solution.split(":")[0])
            RunContext(competition, data=None, options=exp.options).config(solution.CONFIG)
            checked += 1
    assert checked >= 2


def test_an_experiment_may_not_take_a_folder_name_the_submissions_use(tmp_path):
    from common.submission import FAST_FOLDER

    (tmp_path / "experiments").mkdir()
    (tmp_path / "experiments" / f"{FAST_FOLDER}.toml").write_text('description = "x"\n')
    with pytest.raises(UserError, match="the name 'fast' is taken by submissions/demo/fast/ .--fast runs' submissions.: rename"):
        load_experiment(_competition(tmp_path), FAST_FOLDER)
