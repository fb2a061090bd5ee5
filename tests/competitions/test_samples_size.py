"""All committed samples together stay compact (the issue's budget: under 30 MB)."""
from common.registry import all_competitions


def test_every_competition_has_a_sample_and_all_fit_in_30_mb():
    sizes = {}
    for competition in all_competitions():
        files = [p for p in competition.sample_dir.iterdir() if p.is_file()]
        assert files, f"{competition.slug} has no committed sample"
        sizes[competition.slug] = sum(p.stat().st_size for p in files)
    assert sum(sizes.values()) < 30 * 2**20, sizes
