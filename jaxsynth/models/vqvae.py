"""A VQ-VAE for small images: convolutional encoder, vector quantiser with an EMA codebook,
convolutional decoder (van den Oord et al., 2017)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
from flax import nnx

from jaxsynth.models.vae import check_divisible, down_convs, up_convs, upsample


class CodebookState(nnx.Variable):
    """Codebook variables updated by moving averages in the training step, not by gradients
    (so they live in the model state, beside the parameters)."""


class VectorQuantizer(nnx.Module):
    """Nearest-code quantisation of ``z [..., D]`` against ``num_codes`` codes of size ``D``.

    The codebook is the ratio of two exponential moving averages (decay ``decay``), updated
    from the encoder outputs assigned to each code (van den Oord et al. 2017, appendix A.1):
    ``N_k <- decay N_k + (1 - decay) n_k`` and ``m_k <- decay m_k + (1 - decay) sum_{z -> k} z``,
    then ``e_k = m_k / N~_k`` with Laplace-smoothed counts
    ``N~_k = (N_k + eps) / (sum_j N_j + K eps) * sum_j N_j``. Each code starts with a pseudo
    count of 1 at its initial value, so an unused code keeps its value instead of collapsing.

    ``prior``: a moving average of how often each code is chosen at each latent position, the
    independent per-position prior that :meth:`sample_codes` draws from.
    """

    def __init__(self, num_codes: int, dim: int, grid: tuple[int, int], *, decay: float = 0.99,
                 eps: float = 1e-5, rngs: nnx.Rngs):
        if num_codes < 2 or dim < 1:
            raise ValueError(f"need num_codes >= 2 and embedding_dim >= 1, got {num_codes}, {dim}")
        if not 0.0 < decay < 1.0:
            raise ValueError(f"codebook decay must be in (0, 1), got {decay}")
        self.num_codes, self.dim, self.decay, self.eps = int(num_codes), int(dim), float(decay), eps
        init = jax.random.normal(rngs.params(), (num_codes, dim)) / jnp.sqrt(dim)
        self.codebook = CodebookState(init)
        self.cluster_size = CodebookState(jnp.ones((num_codes,)))
        self.embed_sum = CodebookState(init)
        self.prior = CodebookState(jnp.full(tuple(grid) + (num_codes,), 1.0 / num_codes))

    def assign(self, z: jax.Array) -> jax.Array:
        """Index of the nearest code for each vector: ``[...]`` int32."""
        e = self.codebook.value
        d = (jnp.sum(z**2, -1, keepdims=True) - 2.0 * z @ e.T + jnp.sum(e**2, -1))
        return jnp.argmin(d, axis=-1).astype(jnp.int32)

    def lookup(self, codes: jax.Array) -> jax.Array:
        return jnp.take(self.codebook.value, codes, axis=0)

    def update(self, z: jax.Array, codes: jax.Array) -> None:
        """One EMA step of the codebook (and the prior) from encoder outputs ``z [B, h, w, D]``
        and their codes ``[B, h, w]``; gradients do not flow through it."""
        z = jax.lax.stop_gradient(z)
        onehot = jax.nn.one_hot(codes, self.num_codes, dtype=z.dtype)
        flat_z, flat_1h = z.reshape(-1, self.dim), onehot.reshape(-1, self.num_codes)
        g = self.decay
        n = g * self.cluster_size.value + (1 - g) * flat_1h.sum(0)
        m = g * self.embed_sum.value + (1 - g) * flat_1h.T @ flat_z
        total = n.sum()
        smoothed = (n + self.eps) / (total + self.num_codes * self.eps) * total
        self.cluster_size.value, self.embed_sum.value = n, m
        self.codebook.value = m / smoothed[:, None]
        self.prior.value = g * self.prior.value + (1 - g) * onehot.mean(0)

    def sample_codes(self, key: jax.Array, n: int) -> jax.Array:
        """``[n, h, w]`` codes drawn independently per position from :attr:`prior`."""
        logits = jnp.log(jnp.maximum(self.prior.value, 1e-12))
        return jax.random.categorical(key, logits, shape=(n,) + logits.shape[:-1]).astype(jnp.int32)


class VQVAE(nnx.Module):
    """Images ``[B, H, W, C]`` in ``[0, 1]`` -> latent grid ``[B, H / 2^L, W / 2^L, D]`` ->
    codes -> images (decoder logits or means; the objective decides).

    ``L = len(channels)`` stride-2 convolutions and a 1x1 convolution to ``embedding_dim``
    encode; the decoder mirrors them with nearest-neighbour upsampling.
    """

    def __init__(self, image_shape: Sequence[int], *, channels: Sequence[int] = (32, 64),
                 embedding_dim: int = 16, num_codes: int = 64, decay: float = 0.99,
                 rngs: nnx.Rngs):
        height, width, in_ch = check_divisible(image_shape, channels)
        factor = 2 ** len(channels)
        self.image_shape = (height, width, in_ch)
        self.grid = (height // factor, width // factor)
        self.num_classes = 0
        self.enc = down_convs(in_ch, channels, rngs)
        ch = channels[-1]
        self.to_latent = nnx.Conv(ch, embedding_dim, (1, 1), rngs=rngs)
        self.quantizer = VectorQuantizer(num_codes, embedding_dim, self.grid, decay=decay, rngs=rngs)
        self.from_latent = nnx.Conv(embedding_dim, ch, (3, 3), padding="SAME", rngs=rngs)
        self.dec = up_convs(channels, rngs)
        self.out = nnx.Conv(channels[0], in_ch, (3, 3), padding="SAME", rngs=rngs)

    def encode(self, x: jax.Array) -> jax.Array:
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"VQ-VAE built for images of shape {self.image_shape}, got "
                             f"{tuple(x.shape)}")
        h = 2.0 * x - 1.0
        for conv in self.enc:
            h = nnx.silu(conv(h))
        return self.to_latent(h)

    def decode(self, z: jax.Array) -> jax.Array:
        return self.out(upsample(nnx.silu(self.from_latent(z)), self.dec))

    def __call__(self, x: jax.Array) -> jax.Array:
        """Reconstruction through the codebook (no update)."""
        return self.decode(self.quantizer.lookup(self.quantizer.assign(self.encode(x))))
