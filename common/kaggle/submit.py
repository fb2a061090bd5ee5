"""Send a submission to Kaggle: a CSV upload, or a notebook for code competitions.

    from common.kaggle import submit_to_kaggle
    line = submit_to_kaggle(competition, Path("submissions/x/submission.csv"), records)
    print(line)   # "submitted ...", or how to set credentials when there are none

The run that was submitted is the record with `extra["submitted"]` true, else the best CV. Its
run_id, commit and CV go into the submission message, which is how `leaderboard --kaggle`
later files the public and private scores under that run. The Kaggle reference (submission id,
or kernel owner/slug@version) is set on the record and appended to the results store.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from common.data import file_sha256
from common.errors import UserError
from common.kaggle.bundle import build_bundle, kernel_slug
from common.kaggle.client import KaggleSession, NoCredentials
from common.submission import notebook_dir
from common.registry import Competition
from common.results import RunRecord, read_runs, set_kaggle_ref, spread_text

NOTEBOOK_OUTPUT = "submission.csv"


def _env_seconds(name: str, default: float) -> float:
    """A positive number of seconds from `name`; unset, empty or blank: `default`."""
    raw = os.environ.get(name, "").strip()
    try:
        seconds = float(raw) if raw else default
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise UserError(f"{name} should be a positive number of seconds, got {raw!r}")
    return seconds


@dataclass
class KaggleSubmitConfig:
    """How long to wait on Kaggle for the code route.

    dataset_wait_s: wait for the uploaded code dataset to be processed (status "ready").
    kernel_wait_s: wait for the pushed notebook to finish running before submitting it (env
      KLLM_KAGGLE_WAIT_S sets the default); past this, the returned line says how to submit
      that version later.
    poll_s: seconds between status checks.
    """

    dataset_wait_s: float = 600.0
    kernel_wait_s: float = field(default_factory=lambda: _env_seconds("KLLM_KAGGLE_WAIT_S", 3600.0))
    poll_s: float = 15.0


def submitted_record(records: list[RunRecord]) -> RunRecord:
    """The record whose predictions were submitted: extra["submitted"] (or "best"), else the best CV."""
    if not records:
        raise UserError("no run records to submit: run the solution first")
    flagged = [r for r in records if r.extra.get("submitted") or r.extra.get("best")]
    if flagged:
        return flagged[0]
    return max(records, key=lambda r: r.cv if r.higher_is_better else -r.cv)


def last_submitted_run(competition: Competition, experiment: str | None, results: Path | None = None,
                       fast: bool = False, sample: bool = False) -> tuple[RunRecord, Path]:
    """The latest recorded run of the competition (and experiment) whose predictions were written,
    and its submission file, for sending again without solving again; a UserError says why not.
    A --fast run (a quick check) is taken only when `fast` asks for one; a run on the embedded
    sample only when `sample` allows it (a notebook built to read, which reruns on Kaggle's files)."""
    runs = [r for r in read_runs(results) if r.competition == competition.slug and r.extra.get("submitted")
            and r.extra.get("experiment") == experiment]
    named = f"{competition.slug}{f' (experiment {experiment})' if experiment else ''}"
    kind = [r for r in runs if bool(r.extra.get("fast")) == fast]
    if not kind:
        other = (" (only --fast runs: add --fast to take one)" if runs and not fast
                 else " (only full runs: drop --fast)" if runs else "")
        raise UserError(f"no recorded{' --fast' if fast else ''} run of {named} wrote a submission{other}: "
                        f"run make submit COMP={competition.slug}{' ARGS=--fast' if fast else ''} first")
    runs = kind
    record = runs[-1]
    if record.data_source.split("+")[0] == "sample" and not sample:
        raise UserError(f"the last run of {named} ({record.run_id}) read the embedded sample: nothing to send to Kaggle")
    if "submission_path" not in record.extra or (competition.code_competition and "models" not in record.extra):
        raise UserError(f"run {record.run_id} was recorded before runs kept what sending again needs: "
                        f"run make submit COMP={competition.slug} again")
    path = Path(record.extra["submission_path"])
    if not competition.code_competition:    # the CSV itself goes: it must be the one that run wrote
        if not path.is_file():
            raise UserError(f"the submission of run {record.run_id} ({path}) is gone: run make submit again")
        if record.extra.get("submission_sha256") != file_sha256(path):
            raise UserError(f"{path} is not the file run {record.run_id} wrote (changed since): run make submit again")
    return record, path


def submission_message(record: RunRecord) -> str:
    """'kllm run=<id> commit=<sha> cv map@3=0.7123±0.0100 variant=tfidf data=sample'."""
    return (f"kllm run={record.run_id} commit={record.commit} cv {record.metric}={record.cv:.4f}"
            f"{spread_text(record.cv_std, record.folds, '±')} variant={record.variant} data={record.data_source}")


def _submit_csv(session: KaggleSession, competition: Competition, path: Path, message: str) -> str:
    if not path.is_file():
        raise UserError(f"missing submission file: {path}")
    response = session.call("submit the CSV", session.api.competition_submit, str(path), message,
                            competition.kaggle_slug, quiet=True, competition_slug=competition.kaggle_slug)
    if response.message == session.api.COMPETITION_SUBMIT_UPLOAD_FAILED_MESSAGE:
        raise UserError(f"Kaggle did not accept the upload of {path.name}; try again")
    return str(response.ref)


def _wait(label: str, seconds: float, poll_s: float, check) -> object:
    """Call check() every poll_s until it returns a value or `seconds` pass; None on time-out."""
    deadline = time.monotonic() + seconds
    with tqdm(desc=label, unit="check", leave=False) as bar:
        while True:
            outcome = check()
            bar.update(1)
            if outcome is not None or time.monotonic() + poll_s > deadline:
                return outcome
            time.sleep(poll_s)


def _push_dataset(session: KaggleSession, bundle, message: str, config: KaggleSubmitConfig) -> None:
    api = session.api
    folder = str(bundle.dataset_dir)
    created = session.call("create the code dataset", api.dataset_create_new, folder, public=False, quiet=True)
    if created.error and "already in use" in created.error:
        created = session.call("update the code dataset", api.dataset_create_version, folder, message[:250],
                               quiet=True)
    if getattr(created, "error", None):
        raise UserError(session.credentials.scrub(f"Kaggle refused the code dataset: {created.error}"))
    def ready():
        return "ready" if session.call("check the dataset", api.dataset_status, bundle.dataset_ref) == "ready" else None

    if _wait("dataset", config.dataset_wait_s, config.poll_s, ready) is None:
        raise UserError(f"the code dataset {bundle.dataset_ref} is not ready after {config.dataset_wait_s:.0f}s; "
                        "run the submit again later")


def _submit_notebook(session: KaggleSession, competition: Competition, record: RunRecord, message: str,
                     config: KaggleSubmitConfig) -> str:
    api = session.api
    # fails with 403 "join the competition first" before anything is built or pushed
    session.call("submit to the competition", api.competition_submissions, competition.kaggle_slug,
                 competition_slug=competition.kaggle_slug)
    bundle = build_bundle(competition, record, session.username, notebook_dir(competition.slug))
    _push_dataset(session, bundle, message, config)
    pushed = session.call("push the notebook", api.kernels_push, str(bundle.kernel_dir),
                          competition_slug=competition.kaggle_slug)
    if pushed.error:
        raise UserError(session.credentials.scrub(f"Kaggle refused the notebook: {pushed.error}"))
    version = pushed.version_number

    def finished():
        state = session.call("check the notebook", api.kernels_status, bundle.kernel_ref)
        name = state.status.name
        if name == "ERROR":
            raise UserError(f"the notebook {bundle.kernel_ref} v{version} failed on Kaggle: "
                            f"{state.failure_message or 'see its log on the website'}")
        return name if name == "COMPLETE" else None

    if _wait("notebook run", config.kernel_wait_s, config.poll_s, finished) is None:
        return (f"pushed notebook {bundle.kernel_ref} v{version}; still running, so submit it when it is done: "
                f"kaggle competitions submit -c {competition.kaggle_slug} -k {bundle.kernel_ref} -v {version} "
                f"-f {NOTEBOOK_OUTPUT} -m \"{message}\"")
    response = session.call("submit the notebook", api.competition_submit_code, NOTEBOOK_OUTPUT, message,
                            competition.kaggle_slug, kernel=bundle.kernel_ref, kernel_version=version, quiet=True,
                            competition_slug=competition.kaggle_slug)
    return str(response.ref) if response.ref else f"{bundle.kernel_ref}@{version}"


def submit_to_kaggle(competition: Competition, submission_path: Path, records: list[RunRecord],
                     config: KaggleSubmitConfig | None = None, results: Path | None = None) -> str:
    """Submit and return one status line. No credentials: return the line saying how to set them.

    Kaggle's refusals raise UserError with one line (403 says to join the competition first).
    """
    config = config or KaggleSubmitConfig()
    record = submitted_record(records)
    try:
        session = KaggleSession.open()
    except NoCredentials as err:
        return f"not submitted to Kaggle: {err}"
    message = submission_message(record)
    if competition.code_competition:
        ref = _submit_notebook(session, competition, record, message, config)
        if ref.startswith("pushed notebook"):
            return ref
        route = f"notebook {kernel_slug(competition)}"
    else:
        ref = _submit_csv(session, competition, Path(submission_path), message)
        route = f"CSV {Path(submission_path).name}"
    record.kaggle_ref = ref
    set_kaggle_ref(record.run_id, ref, results)
    return f"submitted to Kaggle {competition.kaggle_slug} as {route} (ref {ref}): {message}"
