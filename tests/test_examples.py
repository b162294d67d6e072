"""The example scripts run end to end (tiny settings)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_penguins_table_example_writes_samples_and_report(tmp_path):
    spec = importlib.util.spec_from_file_location("penguins_table", ROOT / "examples" / "penguins_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--out", str(tmp_path), "--model", "tvae", "--epochs", "1"])
    for name in ("synthetic.csv", "report.html", "report.json", "model/synthesizer.json"):
        assert (tmp_path / name).exists(), name
    scores = json.loads((tmp_path / "report.json").read_text())["scores"]
    assert 0.0 <= scores["headline.fidelity"] <= 1.0 and "utility.ratio" in scores
