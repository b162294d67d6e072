"""VAE-GAN (after Larsen et al., 2016): a VAE whose decoder is also trained against a
discriminator, so its samples are pushed from blurry means towards sharp images.

A game of two players, ``discriminator`` and ``vae``, updated in turn by
:func:`jaxsynth.train.game.make_game_update`. The discriminator (non-saturating loss) tells real
images from the VAE's reconstructions and its decoded prior samples; the VAE minimises its
negative ELBO plus ``adversarial_weight`` times the generator loss on both kinds of fakes. The
reconstruction term stays the pixel likelihood (Larsen et al. replace it by a distance in the
discriminator's features; this keeps the ELBO the VAE family reports).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from jaxsynth.objectives.elbo import Elbo, build_elbo, gaussian_kl


@dataclasses.dataclass(frozen=True)
class VAEGAN:
    """Attributes: ``elbo`` (the VAE's objective: likelihood, beta, labels) and
    ``adversarial_weight`` (weight of the generator loss in the VAE's update, per image)."""

    elbo: Elbo
    adversarial_weight: float = 1.0
    players = (("discriminator", 1), ("vae", 1))
    data_players = ("discriminator", "vae")  # the VAE encodes real images: not DP-SGD-able here

    @property
    def data_key(self) -> str:
        return self.elbo.data_key

    @property
    def label_key(self) -> str | None:
        return self.elbo.label_key

    def _fakes(self, vae, x, y, key):
        """Reconstructions of ``x`` and decoded prior draws, as images (the VAE's data scale)."""
        k_q, k_p = jax.random.split(key)
        mu, log_var = vae.encode(x, y)
        z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(k_q, mu.shape)
        prior = jax.random.normal(k_p, mu.shape)
        out = vae.decode(jnp.concatenate([z, prior]), None if y is None else jnp.concatenate([y, y]))
        return out[: x.shape[0]], self.elbo.mean(out), mu, log_var

    def player_loss(self, player: str, models, batch: dict[str, jax.Array], rng: jax.Array):
        vae, disc = models["vae"], models["discriminator"]
        x = batch[self.data_key]
        y = None if self.label_key is None else jnp.asarray(batch[self.label_key], jnp.int32)
        yy = None if y is None else jnp.concatenate([y, y])
        rec_out, fakes, mu, log_var = self._fakes(vae, x, y, rng)
        if player == "discriminator":
            fakes = jax.lax.stop_gradient(fakes)
            real, fake = disc(x, y), disc(fakes, yy)
            loss = jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))
            return loss, {"discriminator_loss": loss, "real_score": jnp.mean(real),
                          "fake_score": jnp.mean(fake)}
        rec = self.elbo.reconstruction(rec_out, x)
        kl = gaussian_kl(mu, log_var)
        elbo = jnp.mean(rec + self.elbo.beta * kl)
        adv = jnp.mean(jax.nn.softplus(-disc(fakes, yy)))
        loss = elbo + self.adversarial_weight * adv
        return loss, {"loss": elbo, "vae_loss": loss, "reconstruction": jnp.mean(rec),
                      "kl": jnp.mean(kl), "generator_loss": adv}

    def sample(self, models, shape, key, **kwargs: Any) -> jax.Array:
        """Decoded prior draws, as :meth:`jaxsynth.objectives.Elbo.sample`."""
        return self.elbo.sample(models["vae"], shape, key, **kwargs)

    def decode_mean(self, models, z, labels=None) -> jax.Array:
        return self.elbo.decode_mean(models["vae"], z, labels)

    def latent_size(self, models) -> int:
        return models["vae"].latent_dim


def build_vae_gan(adversarial_weight: float = 1.0, **elbo_settings: Any) -> VAEGAN:
    """``adversarial_weight`` plus the settings of :func:`jaxsynth.objectives.elbo.build_elbo`."""
    if adversarial_weight < 0:
        raise ValueError(f"objective.adversarial_weight must be >= 0, got {adversarial_weight}")
    try:
        elbo = build_elbo(**elbo_settings)
    except ValueError as e:
        raise ValueError(str(e).replace("'elbo'", "'vae_gan'") + ", adversarial_weight") from None
    return VAEGAN(elbo=elbo, adversarial_weight=float(adversarial_weight))
