"""Confusion matrices: counts by (true, predicted), and a readable PNG written atomically."""
import numpy as np

from common.confusion import confusion_counts, draw_confusion


def test_counts_and_png(tmp_path):
    counts = confusion_counts([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], n_classes=3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 1]]
    path = draw_confusion([("a", counts), ("b", np.eye(3, dtype=int))], ["x", "y", "z"], tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_mode & 0o044 == 0o044
    assert [p.name for p in tmp_path.iterdir()] == ["c.png"]     # no temp file left behind
