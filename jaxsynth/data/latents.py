"""Latent data: a data set encoded by a trained autoencoder, for latent diffusion.

``data.source = "latents"`` with ``data.autoencoder = WORKDIR`` (a VAE trained by
``jaxsynth train``, objective ``elbo`` or ``vae_gan``) encodes that run's own data set with the
posterior means of its EMA weights, and standardises each latent dimension. Records are
``{"latent": [d] float32, "label": int}`` (labels where the images have them). The
:class:`LatentSource` keeps the standardisation and decodes latents back into images, which
is how a latent diffusion model's samples become images.
"""

from __future__ import annotations

import os

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth.data.sources import ArraySource


class LatentSource(ArraySource):
    """Encoded records plus :meth:`decode` (``[B, d]`` standardised latents -> images in the
    autoencoder's data scale, ``[0, 1]`` for the shipped VAEs)."""

    def __init__(self, autoencoder: str, split: str | None = None, batch_size: int = 512):
        from jaxsynth.train.loop import load_experiment  # the training core builds on data

        if not autoencoder:
            raise ValueError("data.source='latents' needs data.autoencoder: the --workdir of a trained "
                             "VAE (objective 'elbo' or 'vae_gan')")
        self.autoencoder = os.path.abspath(autoencoder)
        exp, state = load_experiment(self.autoencoder)
        obj = exp.objective
        if not hasattr(obj, "decode_mean"):
            raise ValueError(f"data.autoencoder={autoencoder} holds a {exp.config.objective.name!r} "
                             "model; latent diffusion needs a VAE (objective 'elbo' or 'vae_gan')")
        if exp.num_classes:
            raise ValueError(f"data.autoencoder={autoencoder} is a conditional VAE; encode with an "
                             "unconditional one (condition the diffusion model on labels instead)")
        self._exp, self._params, self._model_state = exp, state.ema_params, state.model_state
        cfg = dict(exp.config.data.to_dict())
        if split is not None:
            cfg["split"] = split
        from jaxsynth.data.sources import build_source

        images = build_source(**{k: v for k, v in cfg.items() if k not in ("key", "scale")})
        key = exp.data_key
        x = np.stack([images[i][key] for i in range(len(images))]).astype(np.float32)
        if exp.scale == "minus_one_one":
            x = 2.0 * x - 1.0
        encode = jax.jit(lambda p, s, b: self._vae(p, s).encode(b)[0])
        chunks = [np.asarray(encode(self._params, self._model_state, jnp.asarray(x[i:i + batch_size])))
                  for i in range(0, len(x), batch_size)]
        z = np.concatenate(chunks)
        self.mean, self.std = z.mean(0), z.std(0) + 1e-6
        arrays = {"latent": ((z - self.mean) / self.std).astype(np.float32)}
        first = images[0]
        if "label" in first:
            arrays["label"] = np.asarray([images[i]["label"] for i in range(len(images))], np.int32)
        super().__init__(arrays)

    def _vae(self, params, model_state):
        model = self._exp.merge(params, model_state)
        return model["vae"] if isinstance(model, dict) else model

    def decode(self, latents: jax.Array) -> jax.Array:
        """Images from standardised latents ``[B, d]`` (traceable: call it under ``jit``)."""
        model = self._exp.merge(self._params, self._model_state)
        z = latents * jnp.asarray(self.std) + jnp.asarray(self.mean)
        x = self._exp.objective.decode_mean(model, z)
        if self._exp.scale == "minus_one_one":
            x = (x + 1.0) / 2.0
        return jnp.clip(x, 0.0, 1.0)
