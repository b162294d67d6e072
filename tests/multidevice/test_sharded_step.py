"""The same training step on 1 device and on 8 simulated devices gives the same result."""

import os

import jax
import numpy as np

from helpers import ROOT, smoke_config
from jaxsynth.config import load_config
from jaxsynth.train import Experiment, make_mesh, train


def test_eight_simulated_devices_are_present():
    assert jax.device_count() == 8, "run with XLA_FLAGS=--xla_force_host_platform_device_count=8"


def run_steps(mesh, n_steps=2):
    exp = Experiment(smoke_config("--config.train.batch_size=16"), mesh=mesh)
    state, step, batches = exp.init_state(), exp.train_step(), exp.batches()
    losses = []
    for _ in range(n_steps):
        batch = next(batches)
        assert batch["image"].sharding.mesh.devices.size == mesh.devices.size
        state, metrics = step(state, batch)
        losses.append(float(metrics["loss"]))
    return losses, jax.device_get(state.params)


def test_one_device_and_eight_devices_agree():
    losses1, params1 = run_steps(make_mesh(1))
    losses8, params8 = run_steps(make_mesh(8))
    np.testing.assert_allclose(losses1, losses8, rtol=1e-5, atol=1e-6)
    for a, b in zip(jax.tree.leaves(params1), jax.tree.leaves(params8), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_train_loop_on_eight_devices(tmp_path):
    summary = train(smoke_config("--config.train.batch_size=8", "--config.train.steps=2"),
                    str(tmp_path), progress=False)
    assert summary["step"] == 2 and np.isfinite(summary["final_loss"])


def run_private_steps(mesh, n_steps=2):
    config = load_config(os.path.join(ROOT, "experiments", "digits_ddpm_dp.py") + ":smoke")
    config.model.channel_mults, config.model.attn_resolutions = (1,), ()
    config.privacy.noise_multiplier = 1.0
    config.privacy.epsilon = 0.0
    exp = Experiment(config, mesh=mesh)
    state, step, batches = exp.init_state(), exp.train_step(), exp.batches()
    for _ in range(n_steps):
        state, metrics = step(state, next(batches))
    return float(metrics["loss"]), jax.device_get(state.params)


def test_private_step_agrees_on_one_and_eight_devices():
    loss1, params1 = run_private_steps(make_mesh(1))
    loss8, params8 = run_private_steps(make_mesh(8))
    np.testing.assert_allclose(loss1, loss8, rtol=1e-5)
    # Adam's first steps move every coordinate by about +-lr (1e-5 during warm-up) whatever the
    # gradient's size, so a gradient coordinate within float error of 0 (summation order differs
    # across devices) may step the other way: allow that for a few coordinates, no more.
    a = np.concatenate([x.ravel() for x in jax.tree.leaves(params1)])
    b = np.concatenate([x.ravel() for x in jax.tree.leaves(params8)])
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=3e-5)
    assert np.mean(~np.isclose(a, b, rtol=1e-4, atol=1e-6)) < 0.01


def run_game_steps(mesh, name, n_steps=2):
    """Two steps of a game (the WGAN-GP smoke config: two critic updates on their own slices of
    the batch, then the generator) or of the VQ-VAE (its codebook carried in the model state)."""
    config = load_config(os.path.join(ROOT, "experiments", name) + ":smoke")
    config.train.batch_size = 16
    exp = Experiment(config, mesh=mesh)
    state, step, batches = exp.init_state(), exp.train_step(), exp.batches()
    for _ in range(n_steps):
        state, metrics = step(state, next(batches))
    return float(metrics["loss"]), jax.device_get((state.params, state.model_state))


def test_games_and_state_updates_agree_on_one_and_eight_devices():
    for name in ("digits_gan.py", "digits_vqvae.py"):
        loss1, tree1 = run_game_steps(make_mesh(1), name)
        loss8, tree8 = run_game_steps(make_mesh(8), name)
        np.testing.assert_allclose(loss1, loss8, rtol=1e-4, atol=1e-5)
        for a, b in zip(jax.tree.leaves(tree1), jax.tree.leaves(tree8), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-3, atol=3e-5)
