"""Fetch scores from Kaggle: our submissions (filed under their runs) and the public leaderboard top.

    from common.kaggle.scores import fetch_submissions, fetch_leaderboard_top, sync_scores
    subs = fetch_submissions(session, competition)   # [KaggleSubmission(ref, run_id, public, ...)]
    sync_scores(session, competitions)               # appends public/private scores to the store

A submission is matched to its run by the `run=<id>` that `submission_message` put in its
description; submissions made by hand (no run id) are listed but not filed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from common.kaggle.client import KaggleSession
from common.registry import Competition
from common.results import read_runs, update_scores

_RUN_ID = re.compile(r"\brun=(\S+)")


@dataclass
class KaggleSubmission:
    ref: str
    date: str
    description: str
    status: str
    public: float | None
    private: float | None

    @property
    def run_id(self) -> str | None:
        match = _RUN_ID.search(self.description or "")
        return match.group(1) if match else None


@dataclass
class LeaderboardEntry:
    rank: int
    team: str
    score: float | None


def _score(text) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except (TypeError, ValueError):
        return None


def fetch_submissions(session: KaggleSession, competition: Competition) -> list[KaggleSubmission]:
    """Our submissions to the competition, newest first (Kaggle's first page)."""
    rows = session.call("list your submissions", session.api.competition_submissions, competition.kaggle_slug,
                        competition_slug=competition.kaggle_slug) or []
    return [KaggleSubmission(ref=str(s.ref), date=str(s.date or ""), description=s.description or "",
                             status=getattr(s.status, "name", str(s.status)).lower(),
                             public=_score(s.public_score), private=_score(s.private_score)) for s in rows]


def fetch_leaderboard_top(session: KaggleSession, competition: Competition, top: int = 5) -> list[LeaderboardEntry]:
    """The first `top` rows of the public leaderboard."""
    rows = session.call("read the leaderboard", session.api.competition_leaderboard_view, competition.kaggle_slug,
                        page_size=top, competition_slug=competition.kaggle_slug) or []
    return [LeaderboardEntry(rank=i + 1, team=r.team_name or "", score=_score(r.score))
            for i, r in enumerate(rows[:top])]


def sync_scores(session: KaggleSession, competitions: list[Competition], path=None) -> list[str]:
    """File new public/private scores under their runs; return one line per score filed."""
    runs = {r.run_id: r for r in read_runs(path)}
    filed = []
    for competition in competitions:
        for sub in reversed(fetch_submissions(session, competition)):  # oldest first: newest wins
            run = runs.get(sub.run_id or "")
            if run is None or (sub.public is None and sub.private is None):
                continue
            if (run.public, run.private) != (sub.public, sub.private):
                update_scores(run.run_id, sub.public, sub.private, path)
                run.public, run.private = sub.public, sub.private
                filed.append(f"{competition.slug} run {run.run_id}: public {sub.public} private {sub.private}")
    return filed
