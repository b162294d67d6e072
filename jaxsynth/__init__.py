"""jaxsynth: accelerator-first generative models for synthetic data, in JAX/Flax."""

__version__ = "0.1.0"


def __getattr__(name: str):
    # Lazy, so `import jaxsynth` stays cheap and the CLI starts fast.
    if name == "TabularSynthesizer":
        from jaxsynth.synth import TabularSynthesizer
        return TabularSynthesizer
    raise AttributeError(f"module 'jaxsynth' has no attribute {name!r}")
