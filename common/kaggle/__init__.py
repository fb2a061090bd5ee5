"""Kaggle round trip through the real `kaggle` client: download, submit, fetch scores.

    from common.kaggle import download_competition, submit_to_kaggle, KaggleSession
    download_competition(competition)                       # data/<slug>/, schema-checked
    install_zip(competition, Path("kaggle-llm-science-exam.zip"))  # the same from a zip saved by hand
    print(submit_to_kaggle(competition, csv_path, records))  # CSV or notebook route
    with_session = KaggleSession.open()                      # NoCredentials (UserError) if none

Credentials come from kaggle.json, KAGGLE_USERNAME/KAGGLE_KEY or KAGGLE_API_TOKEN and are never
printed, logged or written; see common.kaggle.credentials.
"""
from common.kaggle.client import KaggleRefused, KaggleSession, NoCredentials
from common.kaggle.credentials import CREDENTIALS_HELP, find_credentials
from common.kaggle.download import download_competition, install_zip
from common.kaggle.scores import fetch_leaderboard_top, fetch_submissions, sync_scores
from common.kaggle.submit import KaggleSubmitConfig, submission_message, submit_to_kaggle

__all__ = [
    "CREDENTIALS_HELP", "KaggleRefused", "KaggleSession", "KaggleSubmitConfig", "NoCredentials",
    "download_competition", "fetch_leaderboard_top", "fetch_submissions", "find_credentials", "install_zip",
    "submission_message", "submit_to_kaggle", "sync_scores",
]
