import json

import numpy as np
import pandas as pd
import pytest
from tables import dependent_frame

from jaxsynth.cli import main
from jaxsynth.data.shards import read_shards, write_shards


def fake_sampler(calls):
    def sample(rows, seed):
        calls.append((rows, seed))
        rng = np.random.default_rng(seed)
        return pd.DataFrame({"a": rng.normal(size=rows), "b": rng.choice(["x", "y"], rows)})
    return sample


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_shards_manifest_and_resume(tmp_path, fmt):
    calls = []
    manifest = write_shards(fake_sampler(calls), 1003, tmp_path, shards=4, fmt=fmt, seed=5,
                            chunk_rows=100)
    assert [f["rows"] for f in manifest["files"]] == [251, 251, 251, 250]
    assert max(rows for rows, _ in calls) == 100  # never more than one chunk in memory
    full = read_shards(tmp_path)
    assert len(full) == 1003
    # Lose one shard and corrupt another: a rerun rewrites exactly those, identically.
    (tmp_path / manifest["files"][1]["file"]).unlink()
    (tmp_path / manifest["files"][2]["file"]).write_bytes(b"garbage")
    calls.clear()
    again = write_shards(fake_sampler(calls), 1003, tmp_path, shards=4, fmt=fmt, seed=5,
                         chunk_rows=100)
    assert sum(rows for rows, _ in calls) == 251 * 2
    assert again == manifest
    pd.testing.assert_frame_equal(read_shards(tmp_path), full)


def test_shards_refuse_another_request_and_bad_arguments(tmp_path):
    write_shards(fake_sampler([]), 10, tmp_path, shards=2)
    with pytest.raises(ValueError, match="another request"):
        write_shards(fake_sampler([]), 11, tmp_path, shards=2)
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        write_shards(fake_sampler([]), -1, tmp_path / "x")
    with pytest.raises(ValueError, match="format 'json'"):
        write_shards(fake_sampler([]), 1, tmp_path / "x", fmt="json")
    with pytest.raises(ValueError, match="no manifest.json"):
        read_shards(tmp_path / "x")


def test_cli_fit_then_sample_sharded(tmp_path, capsys):
    data = tmp_path / "data.csv"
    dependent_frame(300).to_csv(data, index=False)
    model = tmp_path / "model"
    assert main(["tabular", "fit", str(data), "--model", "tvae", "--out", str(model), "--epochs", "2",
                 "--batch-size", "100", "--no-progress"]) == 0
    out = tmp_path / "synth"
    assert main(["tabular", "sample", str(model), "-n", "500", "--out", str(out), "--shards", "3",
                 "--format", "csv", "--condition", "flag=True", "--no-progress"]) == 0
    rows = read_shards(out)
    assert len(rows) == 500 and rows["flag"].all()
    assert json.loads((out / "manifest.json").read_text())["complete"]
    capsys.readouterr()
    assert main(["tabular", "sample", str(model), "-n", "5", "--out", str(tmp_path / "o"),
                 "--condition", "group=giant", "--no-progress"]) == 2
    assert "no category 'giant'" in capsys.readouterr().err
    assert main(["tabular", "fit", str(tmp_path / "missing.csv"), "--out", str(model)]) == 2


def test_cli_evaluate_reads_shards_and_writes_json(tmp_path, capsys):
    real, holdout = tmp_path / "real.csv", tmp_path / "holdout.csv"
    dependent_frame(300, seed=0).to_csv(real, index=False)
    dependent_frame(100, seed=1).to_csv(holdout, index=False)
    write_shards(lambda rows, seed: dependent_frame(max(rows, 1), seed=seed).iloc[:rows], 300,
                 tmp_path / "synth", shards=3)
    out = tmp_path / "report.json"
    assert main(["evaluate", "--real", str(real), "--synthetic", str(tmp_path / "synth"),
                 "--holdout", str(holdout), "--target", "group", "--out", str(out), "--no-progress"]) == 0
    scores = json.loads(out.read_text())["scores"]
    assert scores["utility.ratio"] > 0.8 and "privacy.dcr_synthetic_median" in scores
    assert main(["evaluate", "--real", str(real), "--synthetic", str(real), "--out",
                 str(tmp_path / "r.txt")]) == 2
    assert ".html or .json" in capsys.readouterr().err
    assert main(["evaluate", "--real", str(real), "--synthetic", str(real), "--model", str(tmp_path),
                 "--out", str(tmp_path / "r.html")]) == 2
    assert "no synthesizer.json" in capsys.readouterr().err
