"""DP-SGD through the whole training core, on the smoke conv VAE (which takes the fast ghost
path; DP-diffusion's vmap path runs in tests/test_experiments.py's smoke test of
experiments/digits_ddpm_dp.py)."""

import json
import os

import jax
import numpy as np
import pytest

from helpers import ROOT
from jaxsynth.config import apply_overrides, load_config
from jaxsynth.privacy import epsilon
from jaxsynth.privacy.ghost import supports_ghost
from jaxsynth.train import Experiment, load_experiment, train

VAE = os.path.join(ROOT, "experiments", "digits_vae.py")
Q = 8 / 1797  # smoke batch size / digits records


def vae_config(*overrides):
    config = load_config(f"{VAE}:smoke")
    apply_overrides(config, list(overrides))
    return config


def dp_config(*overrides):
    config = load_config(f"{VAE}:smoke")
    config.privacy = {"epsilon": 10.0, "noise_multiplier": 0.0, "delta": 1e-5,
                      "l2_clip_norm": 1.0, "accountant": "rdp", "microbatch_size": 0}
    apply_overrides(config, list(overrides))
    return config


def ledger_of(workdir):
    with open(os.path.join(workdir, "metrics.json")) as f:
        return json.load(f)["privacy"]


def test_private_resume_is_exact_and_continues_the_ledger(tmp_path):
    steps4 = ("--config.train.steps=4", "--config.train.checkpoint_every=2")
    full, half = str(tmp_path / "full"), str(tmp_path / "half")
    exp = Experiment(dp_config())
    assert supports_ghost(exp.merge(exp.init_state().params, exp.init_state().model_state))
    train(dp_config(*steps4), full, progress=False)  # noise calibrated: epsilon=10 at step 4
    sigma = ledger_of(full)["noise_multiplier"]
    # The same mechanism interrupted at step 2 (the budget then allows 2 more steps), resumed.
    train(dp_config(*steps4, "--config.train.steps=2", f"--config.privacy.noise_multiplier={sigma}"),
          half, progress=False)
    summary = train(dp_config(*steps4), half, progress=False)
    assert summary["resumed_from"] == 2 and summary["step"] == 4
    a, b = jax.device_get(load_experiment(full)[1]), jax.device_get(load_experiment(half)[1])
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)
    la, lb = ledger_of(full), ledger_of(half)
    assert la == lb and la["steps"] == 4
    assert la["epsilon"] == pytest.approx(
        epsilon(noise_multiplier=sigma, sampling_rate=Q, steps=4, delta=1e-5))
    assert 9.0 < la["epsilon"] <= 10.0 + 1e-6
    history = json.load(open(os.path.join(full, "metrics.json")))["history"][-1]
    assert 0.0 <= history["clip_fraction"] <= 1.0 and history["grad_norm_mean"] > 0


def test_training_stops_when_the_budget_is_spent(tmp_path):
    budget = epsilon(noise_multiplier=0.8, sampling_rate=Q, steps=3, delta=1e-5)
    summary = train(dp_config("--config.train.steps=50", f"--config.privacy.epsilon={budget}",
                              "--config.privacy.noise_multiplier=0.8"),
                    str(tmp_path), progress=False)
    assert summary["step"] == 3 and summary["stopped_by"] == "privacy budget"
    assert summary["privacy"]["epsilon"] <= budget


def test_a_private_run_cannot_resume_a_non_private_checkpoint(tmp_path):
    train(vae_config(), str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="holds a non-private checkpoint but this config is private"):
        train(dp_config("--config.train.steps=2"), str(tmp_path), progress=False)


def test_privacy_settings_are_validated(tmp_path):
    with pytest.raises(ValueError, match=r"privacy.delta must be in \(0, 1\)"):
        train(dp_config("--config.privacy.delta=0.0"), str(tmp_path), progress=False)

