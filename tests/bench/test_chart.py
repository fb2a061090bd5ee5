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


def test_ratio_chart_draws_each_rows_min_max_as_error_bars(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import bench._chart as chart

    drawn = {}

    def capture(path, draw, *labels):
        fig, ax = plt.subplots()
        draw(ax)
        drawn["lines"] = ax.containers
        plt.close(fig)
        return path

    monkeypatch.setattr(chart, "save_line_chart", capture)
    rows = [{"threads": 1, "context": 16, "ratio": 1.2, "ratio_min": 1.1, "ratio_max": 1.5},
            {"threads": 1, "context": 300, "ratio": 1.0, "ratio_min": 0.9, "ratio_max": 1.05}]
    chart.save_ratio_chart(tmp_path / "c.png", {"int4": rows}, "context", "x", "y", "t")
    (bars,) = drawn["lines"]
    segments = bars.lines[2][0].get_segments()                  # one vertical segment a point
    assert [(round(s[0][1], 3), round(s[1][1], 3)) for s in segments] == [(1.1, 1.5), (0.9, 1.05)]
