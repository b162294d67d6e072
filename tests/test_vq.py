"""VQ-VAE: the EMA codebook update, the straight-through loss, and the step that carries the
codebook in the model state."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from helpers import ROOT
from jaxsynth.config import load_config
from jaxsynth.models.vqvae import VectorQuantizer
from jaxsynth.objectives.vq import codebook_usage
from jaxsynth.train.experiment import Experiment

VQ_CONFIG = f"{ROOT}/experiments/digits_vqvae.py"


def _ema_by_hand(codebook, counts, sums, z, decay, eps):
    d = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    codes = d.argmin(1)
    onehot = np.eye(len(codebook))[codes]
    n = decay * counts + (1 - decay) * onehot.sum(0)
    m = decay * sums + (1 - decay) * onehot.T @ z
    smoothed = (n + eps) / (n.sum() + len(n) * eps) * n.sum()
    return codes, n, m, m / smoothed[:, None]


def test_codebook_ema_update_matches_its_formula():
    vq = VectorQuantizer(3, 2, (1, 2), decay=0.9, eps=1e-5, rngs=nnx.Rngs(0))
    book = np.array([[0.0, 0.0], [1.0, 1.0], [-2.0, 0.5]], np.float32)
    counts, sums = np.array([1.0, 2.0, 0.5], np.float32), np.array(book * [[1], [2], [0.5]])
    vq.codebook.value, vq.cluster_size.value, vq.embed_sum.value = (
        jnp.asarray(book), jnp.asarray(counts), jnp.asarray(sums))
    z = np.array([[[0.1, -0.2], [0.9, 1.2]], [[1.1, 0.8], [-1.5, 0.4]]], np.float32)  # [B=2, 1, 2, D]
    z = z.reshape(2, 1, 2, 2)
    codes = vq.assign(jnp.asarray(z))
    want_codes, n, m, e = _ema_by_hand(book, counts, sums, z.reshape(-1, 2), 0.9, 1e-5)
    np.testing.assert_array_equal(np.asarray(codes).reshape(-1), want_codes)
    vq.update(jnp.asarray(z), codes)
    np.testing.assert_allclose(vq.cluster_size.value, n, rtol=1e-6)
    np.testing.assert_allclose(vq.embed_sum.value, m, rtol=1e-6)
    np.testing.assert_allclose(vq.codebook.value, e, rtol=1e-5)
    # The prior moves towards this batch's per-position code frequencies.
    first = np.eye(3)[want_codes.reshape(2, 1, 2)].mean(0)
    np.testing.assert_allclose(vq.prior.value, 0.9 / 3 + 0.1 * first, rtol=1e-6)


def test_usage_counts_codes():
    u = codebook_usage(jnp.array([[0, 0], [0, 0]]), 8)
    assert float(u["perplexity"]) == pytest.approx(1.0) and float(u["codes_used"]) == 1 / 8


def test_train_step_carries_the_codebook_update_in_the_model_state():
    config = load_config(f"{VQ_CONFIG}:smoke")
    exp = Experiment(config)
    state = exp.init_state()
    before = jax.device_get(state.model_state)
    x = jax.random.uniform(jax.random.key(0), (8,) + exp.data_shape)
    new, metrics = exp.train_step()(state, {"image": x})
    vq_before = before["quantizer"]
    # The same update by hand, from the encoder of the parameters the step started from.
    model = nnx.merge(exp.graphdef, jax.device_get(exp.init_state().params), before)
    z = np.asarray(model.encode(x)).reshape(-1, model.quantizer.dim)
    _, n, m, e = _ema_by_hand(np.asarray(vq_before["codebook"].value),
                              np.asarray(vq_before["cluster_size"].value),
                              np.asarray(vq_before["embed_sum"].value), z, model.quantizer.decay,
                              model.quantizer.eps)
    after = jax.device_get(new.model_state)["quantizer"]
    np.testing.assert_allclose(after["cluster_size"].value, n, rtol=1e-5)
    np.testing.assert_allclose(after["codebook"].value, e, rtol=1e-4, atol=1e-6)
    assert 0 < float(metrics["codes_used"]) <= 1 and float(metrics["perplexity"]) >= 1


def test_a_codebook_cannot_train_under_dp():
    config = load_config(f"{VQ_CONFIG}:smoke")
    config.privacy = {"noise_multiplier": 1.0, "delta": 1e-5, "l2_clip_norm": 1.0}
    with pytest.raises(ValueError, match="codebook"):
        Experiment(config)
