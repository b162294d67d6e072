"""Noise schedules and diffusion samplers (``lax.scan`` loops under ``jit``)."""

from jaxsynth.diffusion.samplers import (
    SAMPLERS,
    ddim_sample,
    ddim_timesteps,
    ddpm_sample,
    model_predictions,
    sample,
    sample_stepwise,
)
from jaxsynth.diffusion.schedules import NoiseSchedule, make_schedule

__all__ = [
    "SAMPLERS",
    "NoiseSchedule",
    "ddim_sample",
    "ddim_timesteps",
    "ddpm_sample",
    "make_schedule",
    "model_predictions",
    "sample",
    "sample_stepwise",
]
