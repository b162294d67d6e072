"""One-step smoke test of every config in experiments/ (its ``:smoke`` variant)."""

import glob
import os

import numpy as np
import pytest

from helpers import ROOT
from jaxsynth.config import load_config
from jaxsynth.train import sample_from_workdir, train
from jaxsynth.train.loop import interpolate_from_workdir

CONFIGS = sorted(glob.glob(os.path.join(ROOT, "experiments", "*.py")))


def test_there_are_experiments():
    assert CONFIGS


@pytest.mark.parametrize("path", CONFIGS, ids=os.path.basename)
def test_experiment_smoke(path, tmp_path):
    config = load_config(f"{path}:smoke")
    assert config.smoke and config.train.steps == 1
    if config.data.source == "latents":  # latent diffusion: first the autoencoder it encodes with
        vae = load_config(os.path.join(ROOT, "experiments", "digits_vae.py:smoke"))
        train(vae, str(tmp_path / "autoencoder"), progress=False)
        config.data.autoencoder = str(tmp_path / "autoencoder")
        tmp_path = tmp_path / "latent"
    summary = train(config, str(tmp_path), progress=False)
    assert summary["step"] == 1 and np.isfinite(summary["final_loss"])
    if config.objective.name == "classification":
        return  # a feature network: nothing to sample
    samples = sample_from_workdir(str(tmp_path), 2, sampler="ddim", steps=2)
    assert samples.shape[0] == 2 and np.isfinite(samples).all()
    if config.data.source == "latents":  # decoded into the autoencoder's images
        assert samples.shape[1:] == (8, 8, 1) and ((samples >= 0) & (samples <= 1)).all()
    classes = config.model.get("num_classes", 0)
    if classes and config.objective.name == "denoising":
        _check_conditional_sampling(str(tmp_path), classes)
    elif classes:
        assert sample_from_workdir(str(tmp_path), 2, label=1).shape == samples.shape
    else:
        with pytest.raises(ValueError, match="without labels"):
            sample_from_workdir(str(tmp_path), 1, label=0)
    if config.objective.name in ("elbo", "vae_gan"):  # a VAE: walk its latent space
        strip = interpolate_from_workdir(str(tmp_path), 3, label=0 if classes else None)
        assert strip.shape == (3,) + samples.shape[1:] and ((strip >= 0) & (strip <= 1)).all()


def _check_conditional_sampling(workdir, classes):
    kw = dict(sampler="dpmpp_2m", steps=3, seed=1)
    uncond = sample_from_workdir(workdir, 3, **kw)
    # Guidance 0 is the unconditional model whatever the label (batched with the conditional
    # half, so equal to float tolerance; tests/test_samplers.py checks the guidance formula).
    zero = sample_from_workdir(workdir, 3, label=classes - 1, guidance=0.0, **kw)
    np.testing.assert_allclose(zero, uncond, atol=1e-5)
    guided = sample_from_workdir(workdir, 3, label=0, guidance=2.0, **kw)
    assert guided.shape == uncond.shape and np.isfinite(guided).all()
    with pytest.raises(ValueError, match="out of range"):
        sample_from_workdir(workdir, 1, label=classes)
    with pytest.raises(ValueError, match="needs --label"):
        sample_from_workdir(workdir, 1, guidance=3.0)

