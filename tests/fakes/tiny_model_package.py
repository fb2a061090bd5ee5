"""A registered model whose weights ship as a tiny installed package: a module folder and its
dist-info on a temporary sys.path entry, as pip would lay them out.

    info = install_tiny_model(tmp_path / "site", monkeypatch)   # registers "tiny" in common.models.MODELS
"""
from common import models

FILES = {"tinymodel/__init__.py": "from pathlib import Path\n\ndef get_model_path():\n    return Path(__file__).parent\n",
         "tinymodel/weights.bin": "0123456789",
         "tinymodel-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: tinymodel\nVersion: 0.1\n"}


def install_tiny_model(site, monkeypatch) -> models.ModelInfo:
    record = "".join(f"{name},,\n" for name in [*FILES, "tinymodel-0.1.dist-info/RECORD", "../../bin/tinymodel"])
    for name, text in {**FILES, "tinymodel-0.1.dist-info/RECORD": record}.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    monkeypatch.syspath_prepend(str(site))
    info = models.ModelInfo("tiny", "encoder", "tinymodel==0.1", "MIT", "a test model", module="tinymodel")
    monkeypatch.setitem(models.MODELS, "tiny", info)
    return info
