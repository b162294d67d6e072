"""The ELBO objective and the convolutional VAE."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxsynth.models import ConvVAE
from jaxsynth.objectives.elbo import Elbo, gaussian_kl
from jaxsynth.train.loop import slerp


def test_kl_matches_a_monte_carlo_estimate():
    mu, log_var = jnp.array([[0.5, -1.0]]), jnp.array([[0.3, -0.7]])
    z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(jax.random.key(0), (200_000, 2))
    log_q = jnp.sum(-0.5 * ((z - mu) ** 2 / jnp.exp(log_var) + log_var + jnp.log(2 * jnp.pi)), -1)
    log_p = jnp.sum(-0.5 * (z**2 + jnp.log(2 * jnp.pi)), -1)
    assert float(gaussian_kl(mu, log_var)[0]) == pytest.approx(float(jnp.mean(log_q - log_p)), abs=0.01)


def test_loss_is_reconstruction_plus_beta_kl():
    model = ConvVAE((8, 8, 1), channels=(8,), latent_dim=4, rngs=nnx.Rngs(0))
    x = jax.random.uniform(jax.random.key(1), (5, 8, 8, 1))
    batch, key = {"image": x}, jax.random.key(2)
    _, m1 = Elbo(beta=1.0).loss(model, batch, key)
    loss4, m4 = Elbo(beta=4.0).loss(model, batch, key)
    assert float(m1["reconstruction"]) == pytest.approx(float(m4["reconstruction"]))
    assert float(loss4) == pytest.approx(float(m4["reconstruction"] + 4.0 * m4["kl"]), rel=1e-5)
    # Bernoulli reconstruction: binary cross-entropy of the logits, summed over pixels.
    mu, log_var = model.encode(x)
    z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(key, mu.shape)
    bce = optax.sigmoid_binary_cross_entropy(model.decode(z), x).sum((1, 2, 3)).mean()
    assert float(m1["reconstruction"]) == pytest.approx(float(bce), rel=1e-5)
    g = Elbo(likelihood="gaussian", sigma=0.5)
    out = jnp.zeros_like(x)
    want = (0.5 * (x / 0.5) ** 2 + np.log(0.5) + 0.5 * np.log(2 * np.pi)).sum((1, 2, 3))
    np.testing.assert_allclose(g.reconstruction(out, x), want, rtol=1e-5)
    with pytest.raises(ValueError, match="likelihood"):
        Elbo(likelihood="poisson")


def test_conditional_vae_needs_labels_and_samples_in_range():
    model = ConvVAE((8, 8, 1), channels=(8,), latent_dim=4, num_classes=3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="pass labels"):
        model.encode(jnp.ones((2, 8, 8, 1)))
    images = Elbo().sample(model, (4, 8, 8, 1), jax.random.key(0), labels=jnp.array([0, 1, 2, 0]))
    assert images.shape == (4, 8, 8, 1) and float(images.min()) >= 0 and float(images.max()) <= 1
    with pytest.raises(ValueError, match="no classifier-free guidance"):
        Elbo().sample(model, (4, 8, 8, 1), jax.random.key(0), labels=jnp.zeros(4, int), guidance=2.0)
    path = slerp(np.ones(4), -np.ones(4) + 0.1, 5)
    assert path.shape == (5, 4) and np.allclose(path[0], 1) and np.allclose(path[-1], -np.ones(4) + 0.1)
