"""Every chart is saved through common.charts.save_png: whole, closed, and a refusal names the file."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from common.charts import save_png  # noqa: E402
from common.errors import UserError  # noqa: E402


def test_a_chart_is_written_whole_and_its_figure_closed(tmp_path):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_png(fig, tmp_path / "c.png", dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and not plt.fignum_exists(fig.number)


def test_a_disk_that_cannot_take_the_chart_names_the_file_and_keeps_the_last_one(tmp_path, monkeypatch):
    (tmp_path / "c.png").write_bytes(b"the last chart")
    fig, _ = plt.subplots()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(fig, "savefig", full_disk)
    with pytest.raises(UserError, match=r"cannot write the chart .*c\.png: No space left on device"):
        save_png(fig, tmp_path / "c.png")
    assert [p.name for p in tmp_path.iterdir()] == ["c.png"] and (tmp_path / "c.png").read_bytes() == b"the last chart"
    assert not plt.fignum_exists(fig.number)
