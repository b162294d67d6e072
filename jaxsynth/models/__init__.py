"""Flax NNX modules. Build one by name with :func:`build_model`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flax import nnx

from jaxsynth.models.classifier import ConvClassifier
from jaxsynth.models.denoiser import VectorDenoiser
from jaxsynth.models.gan import GAN, VAEWithDiscriminator
from jaxsynth.models.mlp import MLP
from jaxsynth.models.unet import UNet
from jaxsynth.models.vae import ConvVAE
from jaxsynth.models.vqvae import VQVAE

# name -> constructor(data_shape, rngs=..., **config kwargs). Register new models here.
MODELS: dict[str, Callable[..., nnx.Module]] = {
    "unet": lambda data_shape, rngs, **kw: UNet(data_shape, rngs=rngs, **kw),
    "classifier": lambda data_shape, rngs, **kw: ConvClassifier(data_shape, rngs=rngs, **kw),
    "gan": lambda data_shape, rngs, **kw: GAN(data_shape, rngs=rngs, **kw),
    "vae_gan": lambda data_shape, rngs, **kw: VAEWithDiscriminator(data_shape, rngs=rngs, **kw),
    "vector_denoiser": lambda data_shape, rngs, **kw: VectorDenoiser(data_shape, rngs=rngs, **kw),
    "vqvae": lambda data_shape, rngs, **kw: VQVAE(data_shape, rngs=rngs, **kw),
    "conv_vae": lambda data_shape, rngs, **kw: ConvVAE(data_shape, rngs=rngs, **kw),
    # data_shape = (features,); hidden=(256, 256), out_features defaults to the input width.
    "mlp": lambda data_shape, rngs, hidden=(256, 256), out_features=None, **kw: MLP(
        (data_shape[-1], *hidden, out_features or data_shape[-1]), rngs=rngs, **kw),
}


def build_model(name: str, data_shape: tuple[int, ...], *, seed: int = 0, **kwargs: Any):
    """Construct a registered model for data of shape ``data_shape`` (one example, no batch)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered models: {sorted(MODELS)}")
    try:
        return MODELS[name](tuple(data_shape), rngs=nnx.Rngs(seed), **kwargs)
    except TypeError as e:
        raise ValueError(f"model {name!r} does not accept these settings: {e}") from None


__all__ = ["MLP", "MODELS", "GAN", "ConvClassifier", "ConvVAE", "UNet", "VAEWithDiscriminator",
           "VQVAE", "VectorDenoiser", "build_model"]
