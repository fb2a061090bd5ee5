"""Score a submission with its competition's metric, whatever the metric needs.

    score = score_files(get_competition("science-exam"), Path("sub.csv"), truth=Path("labels.csv"))
    score = score_files(get_competition("adversarial-judge"), Path("essays.csv"))  # no labels: a panel
    print(score.describe())        # 'judge_score = 0.41235 on 120 rows, panel=smollm2:...#1a2b3c'
    score.value, score.components  # 0.41235, {"avg_q": 4.1, "avg_h": 1.2, ...}
    score_frames(get_competition("science-exam"), truth=train, pred=submission)  # -> 0.71

What the submission is paired with follows what the metric needs (`Metric.needs`), never the
competition's name:
  "labels": a labelled frame (the schema's target columns) by id: the targets are y_true, the
            submission columns y_pred; `truth`, else the test_labels.csv of `data_dir` or of the
            sample (a drawn or committed sample carries its hidden test's labels);
  "panel":  the competition's test table (data/<slug>/, else its sample, or `data_dir`): each
            row's prompt is its schema's columns other than the id, the submission (checked
            like one for Kaggle) gives the texts, and the metric's judge panel scores them
            (option `panel`: a tuple of `common.llm.judges.Judge`; default its DEFAULT_PANEL).
A metric's `setting` (an encoder, a judge panel) is recorded in the Score: scores made with
different settings are not comparable.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import polars as pl

from common.data import (TEST_LABELS, check_data_folder, choose_folder, file_sha256, folder_fingerprint,
                         load_dataset, read_table, table_files)
from common.errors import RowError, UserError
from common.metrics import Metric, get_metric
from common.metrics.similarity import describe_encoder
from common.registry import Competition
from common.schema import TableSchema
from common.submission import LETTERS, check_submission


@dataclass
class Score:
    """One score of one submission. encoder / panel: the metric's setting, when it has one."""

    metric: str
    value: float
    rows: int
    components: dict[str, float] = field(default_factory=dict)
    encoder: str = ""
    panel: str = ""
    against: str = ""

    def describe(self) -> str:
        setting = (f", {describe_encoder(self.encoder)}" if self.encoder else "") + (
            f", panel={self.panel}" if self.panel else "")
        against = f" (against {self.against})" if self.against else ""
        lines = [f"{self.metric} = {self.value:.5f} on {self.rows} rows{setting}{against}"]
        if self.components:
            lines.append("  " + "  ".join(f"{k} {v:.4f}" for k, v in self.components.items()))
        return "\n".join(lines)


def _labels(competition: Competition, metric: Metric, truth: pl.DataFrame, pred: pl.DataFrame,
            progress: bool, **options) -> Score:
    schema = competition.schema
    sub = schema.submission
    if not schema.target:
        raise UserError(f"{competition.slug}: its schema has no target column for {metric.name} to score against")
    for frame, columns, what in ((truth, [sub.id_column, *schema.target], "truth"),
                                 (pred, [sub.id_column, *sub.columns], "prediction")):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise UserError(f"{what} file: missing column(s) {', '.join(missing)}")
    key = pl.col(sub.id_column).cast(pl.String)
    for frame, what in ((truth, "truth"), (pred, "prediction")):
        ids = frame.select(key).to_series()
        if ids.null_count():
            raise UserError(f"{what} file: {ids.null_count()} row(s) without {sub.id_column}")
        repeated = ids.is_duplicated()
        if repeated.any():
            first = ids.filter(repeated)[0]
            raise UserError(f"{what} file: {sub.id_column} {first!r} appears more than once "
                            f"({int(repeated.sum())} rows share an id)")
    joined = truth.select(key.alias("_id"), *schema.target).join(
        pred.select(key.alias("_id"), *[pl.col(c).alias(f"_pred_{c}") for c in sub.columns]), on="_id", how="inner")
    if len(joined) != len(truth) or len(joined) != len(pred):
        raise UserError(f"ids differ: {len(truth)} truth rows, {len(pred)} predictions, {len(joined)} in common")
    predicted = [f"_pred_{c}" for c in sub.columns]
    for column, what, name in ((schema.target[0], "truth", schema.target[0]),
                               *((p, "prediction", c) for p, c in zip(predicted, sub.columns))):
        blank = joined.filter(pl.col(column).is_null() | (pl.col(column).cast(pl.String).str.strip_chars() == ""))
        if len(blank):
            raise UserError(f"{what} file: {len(blank)} row(s) without {name} "
                            f"(the first: {sub.id_column} {blank['_id'][0]!r})")
    y_true = joined[schema.target[0]].to_list()
    if sub.kind == "map3_letters":
        _warn_letterless(joined[predicted[0]].to_list())
    if sub.kind == "probabilities":
        y_pred = joined.select(predicted).to_numpy()
    else:
        y_pred = joined[predicted[0]].to_list()
    try:
        value = float(metric.fn(y_true, y_pred, **options))
    except RowError as err:      # the row of the joined arrays, as the files know it
        raise UserError(f"{err.where}: the prediction for {sub.id_column} {joined['_id'][err.row]} {err.what}") from None
    score = Score(metric.name, value, len(joined))
    if metric.setting:
        setattr(score, metric.setting, options.get(metric.setting) or metric.default)
    return score


def _warn_letterless(predictions: list) -> None:
    """Kaggle scores a prediction with no letter A-E as 0, and so does map@3; a file of them is
    most likely in the wrong form (lower case, option texts), so say so on stderr."""
    letterless = sum(not set(str(p).split()) & LETTERS for p in predictions)
    if letterless:
        print(f"warning: {letterless} of {len(predictions)} predictions hold no letter A-E (upper case, space-separated); "
              "each scores 0", file=sys.stderr)


def _panel(competition: Competition, metric: Metric, test: pl.DataFrame, pred: pl.DataFrame,
           progress: bool, **options) -> Score:
    sub = competition.schema.submission
    checked = check_submission(competition, pred, test)  # same ids as test, in test order; no empty text
    prompt_columns = [c for c in competition.schema.tables["test"].columns if c != sub.id_column]
    if not prompt_columns:
        raise UserError(f"{competition.slug}: its test table has no prompt column besides {sub.id_column!r}")
    prompts = test.select(pl.concat_str([pl.col(c).cast(pl.String) for c in prompt_columns], separator="\n"))
    result = metric.fn(prompts.to_series().to_list(), checked[sub.columns[0]].to_list(), progress=progress, **options)
    return Score(metric.name, result.value, len(checked), dict(result.components), panel=result.panel)


def _options(metric: Metric, options: dict) -> dict:
    options = {k: v for k, v in options.items() if v is not None}
    stray = [k for k in options if k != metric.setting]
    if stray:
        raise UserError(f"{metric.name} takes no {', '.join(stray)} option"
                        + (f" (its setting is {metric.setting})" if metric.setting else ""))
    return options


def _truth_schema(competition: Competition, path: Path) -> TableSchema:
    schema = competition.schema
    kinds = {}
    for column in (schema.submission.id_column, *schema.target):
        kinds[column] = next((t.columns[column] for t in schema.tables.values() if column in t.columns), None)
        if kinds[column] is None:
            raise UserError(f"column {column!r} is not in the schema")
    return TableSchema(path.name, kinds)


def _read_labels(competition: Competition, metric: Metric, truth: Path | None, data_dir: Path | None):
    if truth is None:   # a sample (committed or drawn by `make dataset`) carries its hidden test's labels
        return _default_labels(competition, metric, data_dir)
    if not Path(truth).exists():
        raise UserError(f"missing file: {truth}")
    return read_table(Path(truth), _truth_schema(competition, Path(truth))), str(truth)


def labels_file(competition: Competition, data_dir: Path | None = None) -> tuple[str, Path]:
    """(source, path) of the test_labels.csv scored against when no --truth is given: --data's,
    else that of the folder a run would read (data/<slug>/ when it holds the real files, which
    carry none, else the committed sample). The file may not exist.

        labels_file(get_competition("predict-the-llm"))   # ('sample', .../sample/test_labels.csv)
    """
    source, folder = ("--data", check_data_folder(data_dir)) if data_dir else choose_folder(competition)
    return source, folder / TEST_LABELS


def _default_labels(competition: Competition, metric: Metric, data_dir: Path | None):
    """The labels of `labels_file`, named as such; a UserError when there are none."""
    source, labels = labels_file(competition, data_dir)
    if not labels.is_file():
        columns = ", ".join([competition.schema.submission.id_column, *competition.schema.target])
        why = "Kaggle's files carry no test labels" if source == "kaggle" else f"{labels.parent} has no {TEST_LABELS}"
        raise UserError(f"{competition.slug}: {metric.name} scores against labels: give --truth FILE with "
                        f"{columns} ({why})")
    whose = ("--data's labels" if source == "--data"
             else "the committed sample's hidden labels, as no --truth or --data was given (a drawn sample: --data DIR)")
    return read_table(labels, _truth_schema(competition, labels)), f"{labels}: {whose}"


def run_that_wrote(competition: Competition, pred: Path):
    """The latest recorded run of `competition` whose submission file had `pred`'s exact bytes,
    else None (a file made elsewhere, or changed since).

        run = run_that_wrote(get_competition("predict-the-llm"), Path("submissions/predict-the-llm/submission.csv"))
        run.data_source, run.extra.get("data_path")      # ('custom', '/data/resplit-1')
    """
    from common.results import read_runs

    digest = file_sha256(pred)
    writers = [r for r in read_runs() if r.competition == competition.slug and r.extra.get("submission_sha256") == digest]
    return writers[-1] if writers else None


def _refuse_other_data(competition: Competition, metric: Metric, pred: Path, data_dir: Path | None = None) -> None:
    """A UserError when the results store says a run on other data wrote `pred` than it would be
    scored against: its ids may match that test's while its rows are another test's, which would
    score without a word. With --data, other data is files other than the folder holds now (a copy
    of the same files passes, the same folder drawn again does not); without, a run on another
    source than the default folder's (data/<slug>/'s Kaggle files, or the committed sample)."""
    writer = run_that_wrote(competition, pred)
    if writer is None:
        return
    written_on = writer.data_source.split("+")[0]
    if data_dir is None:
        default, _ = choose_folder(competition)
        if written_on != default:
            labels = " or --truth FILE" if metric.needs == "labels" else ""
            folder = writer.extra.get("data_path") or "FOLDER (that run's data)"
            raise UserError(f"{pred}: written by run {writer.run_id} on {written_on} data, not the {default} files "
                            f"it would be scored against; give --data {folder}{labels}")
        return
    folder = check_data_folder(Path(data_dir))
    if not any(table_files(competition, folder)) or _same_files(competition, writer, folder):
        return                   # a folder of labels alone names no data to tell apart
    labels = metric.needs == "labels"
    recorded = writer.extra.get("data_path")
    if recorded and Path(recorded).resolve() == folder.resolve():
        hint = "give --truth FILE to score it against the labels there now" if labels else "run the solution on them"
        raise UserError(f"{pred}: written by run {writer.run_id} on the files {data_dir} held then, which have changed "
                        f"since (drawn again?); {hint}")
    where = recorded or "FOLDER (that run's data)"
    raise UserError(f"{pred}: written by run {writer.run_id} on {written_on} data ({recorded or 'another folder'}), "
                    f"not the files of --data {data_dir}; give --data {where}"
                    + (", or --truth FILE to score it against other labels anyway" if labels else ""))


def _same_files(competition: Competition, writer, folder: Path) -> bool:
    """Whether `folder` holds the files `writer` ran on: its recorded data_id, where it has one and
    that id covers the data alone (no extra rows); else the folder it recorded, if any."""
    recorded = writer.extra.get("data_path")
    if writer.data_id and "+" not in writer.data_source:
        return writer.data_id == folder_fingerprint(competition, folder) or bool(competition.side_files) and (
            writer.data_id == folder_fingerprint(competition, folder, side_files=False))   # an older run's id
    return not recorded or Path(recorded).resolve() == folder.resolve()


def _read_test(competition: Competition, metric: Metric, truth: Path | None, data_dir: Path | None):
    if truth is not None:
        raise UserError(f"{competition.slug}: {metric.name} needs no labels (a judge panel scores the test "
                        "prompts); drop --truth")
    data = load_dataset(competition, data_dir)
    return data.tables["test"], f"the prompts of test in {data.path}"


@dataclass(frozen=True)
class Pairing:
    """How a metric's need is met: `read` loads the reference file, `score` pairs and scores."""

    read: Callable
    score: Callable


PAIRINGS = {"labels": Pairing(_read_labels, _labels), "panel": Pairing(_read_test, _panel)}


def score_submission(competition: Competition, pred: pl.DataFrame, reference: pl.DataFrame,
                     progress: bool = True, **options) -> Score:
    """reference: the labelled frame ("labels" metrics) or the test table ("panel" metrics)."""
    metric = get_metric(competition.metric)
    return PAIRINGS[metric.needs].score(competition, metric, reference, pred, progress, **_options(metric, options))


def score_frames(competition: Competition, truth: pl.DataFrame, pred: pl.DataFrame, **options) -> float:
    """The value alone; `truth` is the reference frame of `score_submission`."""
    return score_submission(competition, pred, truth, progress=False, **options).value


def score_files(competition: Competition, pred: Path, truth: Path | None = None, data_dir: Path | None = None,
                progress: bool = True, **options) -> Score:
    """Read the submission and what the metric needs, then score. truth: the labelled file a
    "labels" metric needs; data_dir: the folder a "panel" metric reads the test table from
    (default: data/<slug>/ when it holds the real files, else the sample)."""
    metric = get_metric(competition.metric)
    _options(metric, options)  # a wrong option is refused before anything is read
    if not Path(pred).exists():
        raise UserError(f"missing file: {pred}")
    frame = read_table(Path(pred), TableSchema(Path(pred).name, competition.schema.tables["sample_submission"].columns))
    if truth is None:
        _refuse_other_data(competition, metric, Path(pred), data_dir)
    reference, against = PAIRINGS[metric.needs].read(competition, metric, truth, data_dir)
    score = score_submission(competition, frame, reference, progress=progress, **options)
    score.against = against
    return score
