"""The ELBO objective: variational autoencoders (VAE, beta-VAE, conditional VAE) on images.

The model provides ``encode(x, y) -> (mu, log_var)`` and ``decode(z, y) -> output``; the loss is
the negative evidence lower bound per image, ``reconstruction + beta * KL(q(z|x) || N(0, I))``,
in nats.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax

LIKELIHOODS = ("bernoulli", "gaussian")


def gaussian_kl(mu: jax.Array, log_var: jax.Array) -> jax.Array:
    """``KL(N(mu, exp(log_var)) || N(0, I))`` summed over the last axis.

    >>> float(gaussian_kl(jnp.zeros((1, 3)), jnp.zeros((1, 3)))[0])
    0.0
    """
    return 0.5 * jnp.sum(jnp.exp(log_var) + mu**2 - 1.0 - log_var, axis=-1)


def reconstruction_nll(out: jax.Array, x: jax.Array, likelihood: str = "bernoulli",
                       sigma: float = 0.1) -> jax.Array:
    """``-log p(x | decoder output)`` per image (nats), summed over all but the first axis:
    Bernoulli on logits ``out`` with targets ``x`` in ``[0, 1]``, or Gaussian with means ``out``
    and standard deviation ``sigma``.

    >>> round(float(reconstruction_nll(jnp.zeros((1, 2)), jnp.ones((1, 2)))[0]), 4)  # 2 log 2
    1.3863
    """
    axes = tuple(range(1, x.ndim))
    if likelihood == "bernoulli":
        return jnp.sum(optax.sigmoid_binary_cross_entropy(out, x), axis=axes)
    return jnp.sum(0.5 * ((x - out) / sigma) ** 2 + jnp.log(sigma) + 0.5 * jnp.log(2 * jnp.pi),
                   axis=axes)


@dataclasses.dataclass(frozen=True)
class Elbo:
    """Attributes:
      likelihood: ``"bernoulli"`` (decoder outputs logits; pixels in ``[0, 1]`` are the
        targets, as for binarised-style images) or ``"gaussian"`` (decoder outputs means with
        a fixed standard deviation ``sigma``).
      beta: weight of the KL term (1: the VAE; > 1: beta-VAE, Higgins et al. 2017).
      sigma: the Gaussian likelihood's standard deviation (data units).
      data_key / label_key: batch entries of the images and (conditional VAE) int labels.
    """

    likelihood: str = "bernoulli"
    beta: float = 1.0
    sigma: float = 0.1
    data_key: str = "image"
    label_key: str | None = None

    def __post_init__(self):
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"objective.likelihood={self.likelihood!r}; choose one of {LIKELIHOODS}")
        if self.beta < 0 or self.sigma <= 0:
            raise ValueError(f"objective.beta must be >= 0 and sigma > 0, got {self.beta}, {self.sigma}")

    def reconstruction(self, out: jax.Array, x: jax.Array) -> jax.Array:
        """``-log p(x | z)`` per image (nats), summed over pixels."""
        return reconstruction_nll(out, x, self.likelihood, self.sigma)

    def loss(self, model, batch: dict[str, jax.Array], rng: jax.Array):
        x = batch[self.data_key]
        y = None if self.label_key is None else batch[self.label_key]
        mu, log_var = model.encode(x, y)
        z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(rng, mu.shape)
        rec = self.reconstruction(model.decode(z, y), x)
        kl = gaussian_kl(mu, log_var)
        loss = jnp.mean(rec + self.beta * kl)
        return loss, {"loss": loss, "reconstruction": jnp.mean(rec), "kl": jnp.mean(kl)}

    def mean(self, out: jax.Array) -> jax.Array:
        """The decoder output as an image in the data scale."""
        return jax.nn.sigmoid(out) if self.likelihood == "bernoulli" else out

    def sample(self, model, shape, key, *, labels=None, guidance: float = 1.0, **unused: Any) -> jax.Array:
        """``shape = (n, ...)`` images: decoder means at ``z ~ N(0, I)`` (diffusion sampler
        settings are ignored). ``labels: [n]`` for a conditional VAE (``None``: classes drawn
        uniformly); ``guidance`` must be 1."""
        if guidance != 1.0:
            raise ValueError("a VAE has no classifier-free guidance; leave --guidance at 1")
        k_z, k_y = jax.random.split(key)
        z = jax.random.normal(k_z, (shape[0], model.latent_dim))
        if labels is None and getattr(model, "num_classes", 0):
            labels = jax.random.randint(k_y, (shape[0],), 0, model.num_classes)
        return self.mean(model.decode(z, labels))

    def decode_mean(self, model, z, labels=None) -> jax.Array:
        return self.mean(model.decode(z, labels))

    def latent_size(self, model) -> int:
        return model.latent_dim


def build_elbo(likelihood: str = "bernoulli", beta: float = 1.0, sigma: float = 0.1,
               data_key: str = "image", label_key: str | None = None, **unknown: Any) -> Elbo:
    if unknown:
        raise ValueError(f"objective 'elbo' has no setting(s) {sorted(unknown)}; known: likelihood, "
                         "beta, sigma, data_key, label_key")
    return Elbo(likelihood=likelihood, beta=beta, sigma=sigma, data_key=data_key,
                label_key=label_key or None)
