"""User-facing synthesizers: fit on data, sample new data."""

from jaxsynth.synth.tabular import TabularSynthesizer

__all__ = ["TabularSynthesizer"]
