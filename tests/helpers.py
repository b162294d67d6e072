"""Helpers shared by tests."""

import os

from jaxsynth.config import apply_overrides, load_config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS = os.path.join(ROOT, "experiments", "digits_ddpm.py")


def smoke_config(*overrides: str, path: str = DIGITS):
    """The tiny variant of an experiment config, with ``--config.x=y`` overrides applied."""
    config = load_config(f"{path}:smoke")
    # One level, attention only in the middle: the smallest U-Net that is still the real one.
    config.model.channel_mults = (1,)
    config.model.attn_resolutions = ()
    apply_overrides(config, list(overrides))
    return config
