"""Every registered competition is well-formed, whichever competitions are registered: its
schema is consistent, its metric is in the metric registry and has what it needs, its sample
loads with its schema, and its entry points import. A sixth competition is checked by adding it."""
import re

import pytest

from common.data import load_dataset
from common.errors import UserError
from common.metrics import METRICS
from common.registry import Competition, all_competitions, get_competition, register
from common.sources.samples import kaggle_rows, read_counts
from common.submission import check_submission

COMPETITIONS = all_competitions()
ENTRY_POINTS = ("solution", "dataset_builder", "edge_spec")


def each(test):
    return pytest.mark.parametrize("comp", COMPETITIONS, ids=[c.slug for c in COMPETITIONS])(test)


def test_competitions_are_registered_under_unique_slugs():
    assert COMPETITIONS, "importing `competitions` registered nothing"
    for slugs in ([c.slug for c in COMPETITIONS], [c.kaggle_slug for c in COMPETITIONS]):
        assert len(set(slugs)) == len(slugs)
        assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in slugs), slugs


@each
def test_schema_is_consistent_and_the_metric_has_what_it_needs(comp):
    assert comp.metric in METRICS, f"{comp.slug}: metric {comp.metric!r} is not in common.metrics"
    tables, sub = comp.schema.tables, comp.schema.submission
    assert "test" in tables and "sample_submission" in tables
    assert sub.id_column in tables["test"].columns
    assert {sub.id_column, *sub.columns} <= set(tables["sample_submission"].columns)
    if METRICS[comp.metric].needs == "labels":
        assert comp.schema.target, f"{comp.slug}: {comp.metric} scores against labels, but no target is declared"
        assert all(any(t in table.columns for table in tables.values()) for t in comp.schema.target)
    else:  # a panel judges texts written for the test prompts
        assert set(tables["test"].columns) - {sub.id_column}, f"{comp.slug}: its test table has no prompt"


@each
def test_sample_loads_with_its_schema_and_its_sample_submission_passes_the_checks(comp):
    data = load_dataset(comp, comp.sample_dir)  # every required table, each checked against the schema
    assert len(data.tables["test"]) > 0
    if "sample_submission" in data.tables:
        check_submission(comp, data.tables["sample_submission"], data.tables["test"])


@each
def test_the_sample_datasheet_counts_match_its_files(comp):
    counts = read_counts(comp.sample_dir.parent / "DATASHEET.md")
    assert set(counts) == {p.name for p in comp.sample_dir.iterdir() if p.suffix in (".csv", ".parquet")}
    for name, rows in counts.items():
        assert kaggle_rows(comp.sample_dir / name) == rows, name

DECLARED = [(c, attr) for c in COMPETITIONS for attr in ENTRY_POINTS if getattr(c, attr)]


@pytest.mark.parametrize("comp, attr", DECLARED, ids=[f"{c.slug}-{attr}" for c, attr in DECLARED])
def test_declared_entry_points_import(comp, attr):
    module = getattr(comp, attr).split(":")[0]
    entry = comp.load_entry(attr)
    assert callable(entry) and entry.__module__ == module


def test_unknown_slug_is_a_user_error_naming_the_known_ones():
    with pytest.raises(UserError, match=COMPETITIONS[0].slug):
        get_competition("titanic")


def test_registering_a_different_competition_under_a_taken_slug_fails():
    taken = COMPETITIONS[0]
    assert register(taken) is taken  # the same registration again is harmless
    with pytest.raises(ValueError):
        register(Competition(**{**taken.__dict__, "kaggle_slug": "other"}))



def test_a_registration_with_an_unknown_metric_kind_or_fold_column_fails_when_imported():
    from dataclasses import replace

    from common.folds import CvSpec
    from common.schema import SubmissionSchema

    taken = get_competition("science-exam")
    with pytest.raises(ValueError, match="unknown metric 'auc'; known: "):
        register(replace(taken, slug="new-one", metric="auc"))
    with pytest.raises(ValueError, match="folds split by 'nowhere', which train.csv does not have"):
        register(replace(taken, slug="new-one", cv=CvSpec("stratified", by="nowhere")))
    with pytest.raises(ValueError, match="unknown submission kind 'prob'"):
        SubmissionSchema("id", ("label",), "prob")
    with pytest.raises(ValueError, match="one column besides the id, not 2"):
        SubmissionSchema("id", ("a", "b"), "probability")
    assert "new-one" not in [c.slug for c in all_competitions()]


def test_a_missing_entry_point_says_what_to_register():
    from dataclasses import replace

    bare = replace(get_competition("science-exam"), slug="bare", edge_spec=None)
    with pytest.raises(UserError, match=r"bare: no edge spec is built yet .*edge_spec=\"package.module:function\", "
                                        r"a spec\(data, .*DistillSet \(common/distill_set.py\) or PortSet"):
        bare.load_entry("edge_spec")
