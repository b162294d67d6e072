"""Tabular synthesizers on 8 simulated devices: one epoch per model, batches sharded 8 ways."""

import jax
import numpy as np
import pytest
from tables import mixed_frame

from jaxsynth import TabularSynthesizer
from jaxsynth.train import make_mesh

SMALL = {
    "ctgan": {"noise_dim": 16, "generator_hidden": (32,), "discriminator_hidden": (32,), "pac": 5},
    "tvae": {"latent": 8, "hidden": (32,)},
    "tabddpm": {"hidden": (32, 32), "time_dim": 16, "timesteps": 50, "sample_steps": 10},
}


@pytest.mark.parametrize("model", ["ctgan", "tvae", "tabddpm"])
def test_one_epoch_on_eight_devices(model):
    assert jax.device_count() == 8
    df = mixed_frame(240)
    synth = TabularSynthesizer(model, epochs=1, batch_size=80, progress=False, mesh=make_mesh(8),
                               **SMALL[model]).fit(df)
    assert all(np.isfinite(v) for v in synth.history[0].values())
    rows = synth.sample(50)
    assert rows.dtypes.to_dict() == df.dtypes.to_dict() and len(rows) == 50


def test_one_and_eight_devices_fit_the_same_model():
    df = mixed_frame(240)
    fits = [TabularSynthesizer("tvae", epochs=2, batch_size=80, progress=False, mesh=make_mesh(d),
                               **SMALL["tvae"]).fit(df) for d in (1, 8)]
    np.testing.assert_allclose(fits[0].history[-1]["loss"], fits[1].history[-1]["loss"], rtol=1e-4)
    a, b = (f.sample_encoded(64) for f in fits)
    np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3)
