"""The VQ-VAE objective (van den Oord et al., 2017): reconstruction through a quantised latent
with the straight-through estimator, a commitment loss, and an EMA codebook update.

The model provides ``encode(x) -> z_e [B, h, w, D]``, ``decode(z) -> output`` and a
``quantizer`` (:class:`jaxsynth.models.vqvae.VectorQuantizer`). The loss writes the codebook's
moving averages into the model state (``updates_model_state``), which the training step carries
forward; gradients reach the encoder through the straight-through copy ``z_e + sg(z_q - z_e)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from jaxsynth.objectives.elbo import LIKELIHOODS, reconstruction_nll


def codebook_usage(codes: jax.Array, num_codes: int) -> dict[str, jax.Array]:
    """``perplexity`` (exp of the entropy of the code histogram: the effective number of codes
    in use, between 1 and ``num_codes``) and ``codes_used`` (the share of codes chosen at least
    once) of a batch of codes.

    >>> {k: round(float(v), 3) for k, v in codebook_usage(jnp.array([0, 1, 0, 1]), 4).items()}
    {'perplexity': 2.0, 'codes_used': 0.5}
    """
    p = jnp.mean(jax.nn.one_hot(codes.reshape(-1), num_codes), axis=0)
    entropy = -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))
    return {"perplexity": jnp.exp(entropy), "codes_used": jnp.mean(p > 0)}


@dataclasses.dataclass(frozen=True)
class VectorQuantized:
    """Attributes:
      commitment: weight of ``||z_e - sg(z_q)||^2`` (summed per image, like the reconstruction).
      likelihood / sigma: the reconstruction term, as in :class:`jaxsynth.objectives.Elbo`.
      data_key: the batch entry of the images (``[0, 1]``).
    """

    commitment: float = 0.25
    likelihood: str = "bernoulli"
    sigma: float = 0.1
    data_key: str = "image"
    updates_model_state = True  # the EMA codebook: see jaxsynth.train.step.make_update

    def __post_init__(self):
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"objective.likelihood={self.likelihood!r}; choose one of {LIKELIHOODS}")
        if self.commitment < 0 or self.sigma <= 0:
            raise ValueError("objective.commitment must be >= 0 and sigma > 0, got "
                             f"{self.commitment}, {self.sigma}")

    def loss(self, model, batch: dict[str, jax.Array], rng: jax.Array):
        x = batch[self.data_key]
        z_e = model.encode(x)
        vq = model.quantizer
        codes = vq.assign(jax.lax.stop_gradient(z_e))
        z_q = vq.lookup(codes)
        z_st = z_e + jax.lax.stop_gradient(z_q - z_e)
        rec = reconstruction_nll(model.decode(z_st), x, self.likelihood, self.sigma)
        commit = jnp.sum((z_e - jax.lax.stop_gradient(z_q)) ** 2, axis=(1, 2, 3))
        vq.update(z_e, codes)
        loss = jnp.mean(rec + self.commitment * commit)
        return loss, {"loss": loss, "reconstruction": jnp.mean(rec),
                      "commitment": jnp.mean(commit), **codebook_usage(codes, vq.num_codes)}

    def mean(self, out: jax.Array) -> jax.Array:
        return jax.nn.sigmoid(out) if self.likelihood == "bernoulli" else out

    def sample(self, model, shape, key, *, labels=None, guidance: float = 1.0,
               **unused: Any) -> jax.Array:
        """``shape = (n, ...)`` images decoded from codes drawn from the quantiser's
        per-position prior (independent positions: a crude prior that shows what the codebook
        holds; a learned prior over code grids would sample better)."""
        if labels is not None or guidance != 1.0:
            raise ValueError("this VQ-VAE is unconditional: drop --label and --guidance")
        codes = model.quantizer.sample_codes(key, shape[0])
        return self.mean(model.decode(model.quantizer.lookup(codes)))


def build_vq(commitment: float = 0.25, likelihood: str = "bernoulli", sigma: float = 0.1,
             data_key: str = "image", **unknown: Any) -> VectorQuantized:
    if unknown:
        raise ValueError(f"objective 'vq' has no setting(s) {sorted(unknown)}; known: commitment, "
                         "likelihood, sigma, data_key")
    return VectorQuantized(commitment=float(commitment), likelihood=likelihood, sigma=float(sigma),
                           data_key=data_key)
