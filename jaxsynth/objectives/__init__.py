"""Objectives: small frozen dataclasses of pure functions (``loss``, ``sample``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jaxsynth.objectives.adversarial import Adversarial, build_adversarial
from jaxsynth.objectives.classification import Classification, build_classification
from jaxsynth.objectives.denoising import Denoising, build_denoising
from jaxsynth.objectives.elbo import Elbo, build_elbo
from jaxsynth.objectives.vae_gan import VAEGAN, build_vae_gan
from jaxsynth.objectives.vq import VectorQuantized, build_vq

OBJECTIVES: dict[str, Callable[..., Any]] = {"denoising": build_denoising,
                                             "classification": build_classification,
                                             "elbo": build_elbo,
                                             "adversarial": build_adversarial,
                                             "vq": build_vq,
                                             "vae_gan": build_vae_gan}


def build_objective(name: str, **kwargs: Any):
    """Construct a registered objective from its config settings."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown objective {name!r}; registered objectives: {sorted(OBJECTIVES)}")
    return OBJECTIVES[name](**kwargs)


__all__ = ["OBJECTIVES", "Adversarial", "Classification", "Denoising", "Elbo", "VAEGAN", "VectorQuantized",
           "build_objective"]
