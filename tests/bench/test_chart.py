"""bench/_chart.py: the benchmarks' line charts."""
from bench._chart import save_line_chart


def test_line_chart_is_drawn_by_the_caller_and_saved_whole(tmp_path):
    drawn = []

    def draw(ax):
        ax.plot([1, 2], [3, 4], label="x")
        drawn.append(ax)

    path = save_line_chart(tmp_path / "out.png", draw, "xs", "ys", "title")
    assert len(drawn) == 1 and drawn[0].get_xlabel() == "xs" and drawn[0].get_title() == "title"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]   # no temp file left beside it
