"""One-step smoke test of every config in experiments/ (its ``:smoke`` variant)."""

import glob
import os

import numpy as np
import pytest

from helpers import ROOT
from jaxsynth.config import load_config
from jaxsynth.train import sample_from_workdir, train

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "experiments", "*.py")))


def test_there_are_experiments():
    assert CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_experiment_smoke(path, tmp_path):
    config = load_config(f"{path}:smoke")
    assert config.smoke and config.train.steps == 1
    summary = train(config, str(tmp_path), progress=False)
    assert summary["step"] == 1 and np.isfinite(summary["final_loss"])
    samples = sample_from_workdir(str(tmp_path), 2, sampler="ddim", steps=2)
    assert samples.shape[0] == 2 and np.isfinite(samples).all()
