"""jaxsynth: accelerator-first generative models for synthetic data, in JAX/Flax."""

__version__ = "0.1.0"
