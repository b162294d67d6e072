"""The adversarial objective: GANs on images (DCGAN, WGAN-GP, hinge; class-conditional).

A game, not a loss: ``players`` lists ``(name, updates per step)`` and ``player_loss`` gives
each player's loss, and :func:`jaxsynth.train.game.make_game_update` updates them in turn inside
one jitted step. The discriminator's ``n_critic`` updates each read their own slice of the batch
(``batches_per_step``), so ``train.batch_size`` is the batch of *one* update.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

LOSSES = ("non_saturating", "wgan_gp", "hinge")


def gradient_penalty(critic: Callable[[jax.Array], jax.Array], real: jax.Array, fake: jax.Array,
                     key: jax.Array, *, group: int = 1) -> jax.Array:
    """WGAN-GP's ``mean((||grad critic(x_hat)|| - 1)^2)`` (Gulrajani et al., 2017).

    ``x_hat = a * real + (1 - a) * fake`` with ``a ~ U(0, 1)`` drawn per example (per ``group``
    of consecutive examples, for PacGAN critics that score groups); the gradient norm is over
    all the example's (group's) values. ``critic: [B, ...] -> [B / group]`` scores.

    >>> w = jnp.array([3.0, 4.0])   # a linear critic: gradient w everywhere, norm 5
    >>> x = jnp.ones((2, 2))
    >>> float(gradient_penalty(lambda v: v @ w, x, 0 * x, jax.random.key(0)))
    16.0
    """
    b = real.shape[0]
    a = jax.random.uniform(key, (b // group,) + (1,) * (real.ndim - 1), real.dtype)
    a = jnp.repeat(a, group, axis=0)
    x_hat = a * real + (1.0 - a) * fake
    grads = jax.grad(lambda v: jnp.sum(critic(v)))(x_hat)
    norms = jnp.sqrt(jnp.sum(grads.reshape(b // group, -1) ** 2, axis=1) + 1e-12)
    return jnp.mean((norms - 1.0) ** 2)


@dataclasses.dataclass(frozen=True)
class Adversarial:
    """Attributes:
      loss: ``"non_saturating"`` (DCGAN, Goodfellow et al. 2014's generator trick),
        ``"wgan_gp"`` (Wasserstein critic with gradient penalty) or ``"hinge"`` (Lim & Ye 2017).
      n_critic: discriminator updates per generator update (5 is WGAN-GP's usual choice).
      gp_weight: weight of the gradient penalty (``wgan_gp`` only).
      data_key / label_key: batch entries of images (``[-1, 1]``) and, for a class-conditional
        GAN, int labels ``[B]`` that both players see.
    """

    loss: str = "non_saturating"
    n_critic: int = 1
    gp_weight: float = 10.0
    data_key: str = "image"
    label_key: str | None = None

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"objective.loss={self.loss!r}; choose one of {LOSSES}")
        if int(self.n_critic) < 1:
            raise ValueError(f"objective.n_critic must be >= 1, got {self.n_critic}")
        if self.gp_weight < 0:
            raise ValueError(f"objective.gp_weight must be >= 0, got {self.gp_weight}")

    # Only the discriminator reads real data, so DP-SGD privatises only it (the generator's
    # update sees the discriminator and draws its own labels).
    data_players = ("discriminator",)

    @property
    def players(self) -> tuple[tuple[str, int], ...]:
        return (("discriminator", int(self.n_critic)), ("generator", 1))

    @property
    def batches_per_step(self) -> int:
        return int(self.n_critic)

    def _labels(self, batch, n):
        if self.label_key is None:
            return None
        return jnp.asarray(batch[self.label_key], jnp.int32).reshape(n)

    def player_loss(self, player: str, models, batch: dict[str, jax.Array], rng: jax.Array):
        gen, disc = models["generator"], models["discriminator"]
        x = batch[self.data_key]
        n = x.shape[0]
        k_z, k_gp, k_y = jax.random.split(rng, 3)
        if player == "generator":  # reads no data: labels drawn uniformly (conditional GANs)
            y = (jax.random.randint(k_y, (n,), 0, gen.num_classes) if self.label_key is not None
                 else None)
        else:
            y = self._labels(batch, n)
        fake = gen(jax.random.normal(k_z, (n, gen.latent_dim)), y)
        if player == "generator":
            score = disc(fake, y)
            loss = (jnp.mean(jax.nn.softplus(-score)) if self.loss == "non_saturating"
                    else -jnp.mean(score))
            return loss, {"generator_loss": loss}
        fake = jax.lax.stop_gradient(fake)
        real_score, fake_score = disc(x, y), disc(fake, y)
        metrics = {"real_score": jnp.mean(real_score), "fake_score": jnp.mean(fake_score)}
        if self.loss == "non_saturating":
            loss = jnp.mean(jax.nn.softplus(-real_score)) + jnp.mean(jax.nn.softplus(fake_score))
        elif self.loss == "hinge":
            loss = jnp.mean(jax.nn.relu(1.0 - real_score)) + jnp.mean(jax.nn.relu(1.0 + fake_score))
        else:
            gp = gradient_penalty(lambda v: disc(v, y), x, fake, k_gp)
            metrics["wasserstein"] = metrics["real_score"] - metrics["fake_score"]
            metrics["gradient_penalty"] = gp
            loss = -metrics["wasserstein"] + self.gp_weight * gp
        # "loss" is the discriminator's: the figure the training loop logs and checks.
        return loss, {**metrics, "discriminator_loss": loss, "loss": loss}

    def sample(self, models, shape, key, *, labels=None, guidance: float = 1.0,
               **unused: Any) -> jax.Array:
        """``shape = (n, ...)`` images in ``[-1, 1]`` from the generator (diffusion sampler
        settings are ignored). ``labels: [n]`` for a conditional GAN (``None``: classes drawn
        uniformly); ``guidance`` must be 1."""
        if guidance != 1.0:
            raise ValueError("a GAN has no classifier-free guidance; leave --guidance at 1")
        gen = models["generator"]
        k_z, k_y = jax.random.split(key)
        if labels is None and gen.num_classes:
            labels = jax.random.randint(k_y, (shape[0],), 0, gen.num_classes)
        return gen(jax.random.normal(k_z, (shape[0], gen.latent_dim)), labels)


def build_adversarial(loss: str = "non_saturating", n_critic: int = 1, gp_weight: float = 10.0,
                      data_key: str = "image", label_key: str | None = None,
                      **unknown: Any) -> Adversarial:
    if unknown:
        raise ValueError(f"objective 'adversarial' has no setting(s) {sorted(unknown)}; known: loss, "
                         "n_critic, gp_weight, data_key, label_key")
    return Adversarial(loss=loss, n_critic=int(n_critic), gp_weight=float(gp_weight),
                       data_key=data_key, label_key=label_key or None)
