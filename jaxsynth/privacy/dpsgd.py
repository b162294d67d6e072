"""DP-SGD (Abadi et al. 2016): clip each example's gradient, sum, add Gaussian noise of std
``noise_multiplier * l2_clip_norm`` to the sum, divide by the *expected* batch size.

Dividing by the expected (not the realised) batch size keeps the released quantity a fixed
function of the noisy sum, as Poisson-sampling accountants assume.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

from jaxsynth.privacy.clipping import ExampleLoss, clipped_grad_sum


@dataclasses.dataclass(frozen=True)
class DPSGD:
    """Settings of the private gradient.

    Attributes:
      l2_clip_norm: per-example clipping bound ``C`` (L2, over all parameters).
      noise_multiplier: ``sigma``; the noise on the sum has std ``sigma * C``.
      expected_batch_size: ``q * N`` for Poisson sampling at rate ``q`` over ``N`` records.
      microbatch_size: examples per chunk of per-example gradients (``None``: whole batch).
      fast_path: use ghost norms and book-keeping (:mod:`jaxsynth.privacy.ghost`) when every
        layer of the model supports it; the training step falls back to ``vmap`` otherwise.
      per_layer: clip each parameter array to ``l2_clip_norm / sqrt(number of arrays)`` instead
        of the whole gradient to ``l2_clip_norm`` (same sensitivity).
    """

    l2_clip_norm: float
    noise_multiplier: float
    expected_batch_size: float
    microbatch_size: int | None = None
    fast_path: bool = True
    per_layer: bool = False

    def __post_init__(self):
        if not self.l2_clip_norm > 0:
            raise ValueError(f"privacy.l2_clip_norm must be > 0, got {self.l2_clip_norm}")
        if not self.noise_multiplier >= 0:
            raise ValueError(f"privacy.noise_multiplier must be >= 0, got {self.noise_multiplier}")
        if not self.expected_batch_size > 0:
            raise ValueError(f"expected batch size must be > 0, got {self.expected_batch_size}")

    def private_grad(
        self, loss_fn: ExampleLoss, params: Any, batch: Any, mask: jax.Array,
        example_key: jax.Array, noise_key: jax.Array,
    ) -> tuple[Any, dict[str, jax.Array]]:
        """The noisy mean gradient and metrics. ``mask: [B]`` marks real (1) vs padding (0);
        ``example_key`` is split into one key per example (for the loss's own randomness),
        ``noise_key`` draws the privacy noise."""
        keys = jax.random.split(example_key, mask.shape[0])
        total, metrics = clipped_grad_sum(
            loss_fn, params, batch, mask, keys, l2_clip_norm=self.l2_clip_norm,
            microbatch_size=self.microbatch_size, per_layer=self.per_layer,
        )
        return self.noisy_mean(total, noise_key), {**metrics, "batch_size_realised": mask.sum()}

    def noisy_mean(self, clipped_sum: Any, noise_key: jax.Array) -> Any:
        """Add the calibrated noise to a sum of clipped gradients; divide by the expected size."""
        noisy = add_gaussian_noise(clipped_sum, self.noise_multiplier * self.l2_clip_norm,
                                   noise_key)
        return jax.tree.map(lambda g: g / self.expected_batch_size, noisy)


def add_gaussian_noise(tree: Any, std: float, key: jax.Array) -> Any:
    """``tree + N(0, std^2)`` independently per coordinate (one key per leaf)."""
    leaves, treedef = jax.tree.flatten(tree)
    keys = jax.random.split(key, len(leaves))
    noisy = [x + std * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys,
                                                                                strict=True)]
    return jax.tree.unflatten(treedef, noisy)
