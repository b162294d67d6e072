import json

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from tables import dependent_frame, mixed_frame

from jaxsynth import TabularSynthesizer
from jaxsynth.data.table_encoder import TableEncoder
from jaxsynth.objectives.tabular import ConditionSampler, TableLayout

# Tiny networks: these tests check behaviour, not quality.
SMALL = {
    "ctgan": {"noise_dim": 16, "generator_hidden": (32,), "discriminator_hidden": (32,), "pac": 5},
    "tvae": {"latent": 8, "hidden": (32,)},
    "tabddpm": {"hidden": (32, 32), "time_dim": 16, "timesteps": 50, "sample_steps": 10},
}


def small(model, **kw):
    return TabularSynthesizer(model, progress=False, **{"epochs": 2, "batch_size": 100,
                                                        **SMALL[model], **kw})


@pytest.mark.parametrize("model", ["ctgan", "tvae", "tabddpm"])
def test_fit_sample_save_load(model, tmp_path):
    df = mixed_frame(300)
    synth = small(model).fit(df)
    assert len(synth.history) == 2 and all(np.isfinite(v) for v in synth.history[-1].values())
    rows = synth.sample(257, seed=1)
    assert list(rows.columns) == list(df.columns) and len(rows) == 257
    assert rows.dtypes.to_dict() == df.dtypes.to_dict()
    assert rows["x"].between(df["x"].min(), df["x"].max()).all()
    assert set(rows["city"].dropna()) <= set(df["city"].dropna())
    # Saving and loading gives identical samples; another seed gives other samples.
    synth.save(tmp_path / "m")
    again = TabularSynthesizer.load(tmp_path / "m")
    pd.testing.assert_frame_equal(again.sample(257, seed=1), rows)
    assert not again.sample(257, seed=2).equals(rows)
    # Conditions hold on every row, with no rejection loop.
    assert (synth.sample(64, conditions={"city": "b"})["city"] == "b").all()
    assert synth.sample(0).shape == (0, df.shape[1])


def test_same_seed_same_data_gives_identical_samples():
    df = mixed_frame(300)  # the shapes of test_fit_sample_save_load: its programs are cached
    a = small("tvae", seed=7).fit(df).sample(257)
    b = small("tvae", seed=7).fit(df).sample(257)
    pd.testing.assert_frame_equal(a, b)


def test_conditioning_moves_the_dependent_column():
    df = dependent_frame(1000)
    synth = TabularSynthesizer("tabddpm", epochs=150, batch_size=250, progress=False,
                               hidden=(64, 64), time_dim=32, timesteps=100, sample_steps=50).fit(df)
    for group, centre in [("low", -5.0), ("high", 5.0)]:
        rows = synth.sample(400, conditions={"group": group})
        assert (rows["group"] == group).all()
        # A model that ignored the condition would give the overall mean (about 0.5).
        assert abs(rows["value"].median() - centre) < 1.5, (group, rows["value"].median())
    # Unconditional samples keep the category frequencies.
    freq = synth.sample(2000)["group"].value_counts(normalize=True)
    assert abs(freq["mid"] - 0.5) < 0.1


def test_condition_sampler_rows_match_their_condition():
    df = dependent_frame(500)
    enc = TableEncoder(numerical="quantile").fit(df)
    x = enc.transform(df)
    layout = TableLayout.from_encoder(enc)
    cond, rows = jax.jit(lambda k: ConditionSampler(x, layout).sample(k, 2000))(jax.random.key(0))
    cond, rows = np.asarray(cond), np.asarray(rows)
    assert (cond.sum(1) == 1).all()
    offset = 0
    for s, w in layout.cond_blocks:
        c = cond[:, offset:offset + w]
        on = c.sum(1) == 1
        np.testing.assert_array_equal(x[rows[on], s:s + w], c[on])
        offset += w
    # Categories are drawn by log-frequency: the rare group is over-represented vs its 20%.
    group = cond[:, :3]
    picked = group[group.sum(1) == 1].argmax(1)
    low = enc.category_index("group", "low")
    assert (picked == low).mean() > 0.25


def test_bad_arguments_raise_clear_errors(tmp_path):
    df = dependent_frame(200)
    with pytest.raises(ValueError, match="model='gan'"):
        TabularSynthesizer("gan")
    with pytest.raises(ValueError, match=r"no setting\(s\) \['depth'\]"):
        TabularSynthesizer("tvae", depth=3)
    with pytest.raises(ValueError, match="not fitted"):
        TabularSynthesizer("tvae").sample(5)
    synth = small("ctgan").fit(df)
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        synth.sample(-1)
    with pytest.raises(ValueError, match="unknown column 'colour'"):
        synth.sample(5, conditions={"colour": "red"})
    with pytest.raises(ValueError, match="'group' has no category 'huge'"):
        synth.sample(5, conditions={"group": "huge"})
    with pytest.raises(ValueError, match="only categorical and boolean columns"):
        synth.sample(5, conditions={"value": 1.0})
    with pytest.raises(ValueError, match="one categorical column at a time"):
        synth.sample(5, conditions={"group": "low", "flag": True})
    synth.save(tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "synthesizer.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "m" / "synthesizer.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="saved in format 99"):
        TabularSynthesizer.load(tmp_path / "m")
    with pytest.raises(ValueError, match="not a saved TabularSynthesizer"):
        TabularSynthesizer.load(tmp_path)


PUBLIC = {"group": {"kind": "categorical", "categories": ["low", "mid", "high"]},
          "value": {"kind": "numerical", "min": -10, "max": 10}, "flag": "boolean"}


def test_private_fit_reports_its_guarantee_and_reads_nothing_from_the_data(tmp_path):
    df = dependent_frame(400)
    synth = small("tabddpm", epsilon=3.0, delta=1e-4, metadata=PUBLIC).fit(df)
    report = synth.privacy_report
    assert report["epsilon"] <= 3.0 + 1e-6 and report["noise_multiplier"] > 0.5
    assert report["sampling_rate"] == 100 / 400 and report["steps"] == 2 * 4
    assert all(np.isfinite(v) for v in synth.history[-1].values())
    # The encoder is built from the public metadata alone: other data, same encoder.
    other = dependent_frame(400, seed=1)
    other["value"] *= 0.5
    assert TableEncoder(PUBLIC, public=True).fit(other).to_dict() == synth.encoder.to_dict()
    rows = synth.sample(50)
    assert rows["value"].dropna().between(-10, 10).all()
    assert set(rows["group"].dropna()) <= {"low", "mid", "high"}
    synth.save(tmp_path / "m")
    assert TabularSynthesizer.load(tmp_path / "m").privacy_report == report


def test_private_fit_needs_public_metadata():
    df = dependent_frame(200)
    with pytest.raises(ValueError, match="public metadata lacks column 'flag'"):
        small("tvae", epsilon=1.0, metadata={k: PUBLIC[k] for k in ("group", "value")}).fit(df)
    with pytest.raises(ValueError, match="'value' needs 'min' and 'max'"):
        small("tvae", epsilon=1.0, metadata={**PUBLIC, "value": "numerical"}).fit(df)
    with pytest.raises(ValueError, match="pac=1"):
        TabularSynthesizer("ctgan", epsilon=1.0, pac=10)


def test_dp_ctgan_privatises_the_critic_and_its_generator_reads_no_data():
    from flax import nnx

    from jaxsynth.models.tabular import CTGAN

    df = dependent_frame(400)
    synth = small("ctgan", epsilon=3.0, delta=1e-4, metadata=PUBLIC, pac=1, epochs=1).fit(df)
    report = synth.privacy_report
    assert report["epsilon"] <= 3.0 + 1e-6 and report["noise_multiplier"] > 0.5
    assert synth.network["pac"] == 1 and synth.objective.public_conditions
    assert all(np.isfinite(v) for v in synth.history[-1].values())
    rows = synth.sample(60)
    assert set(rows["group"].dropna()) <= {"low", "mid", "high"}
    # The generator's loss is the same whatever real rows and conditions the batch holds.
    layout, obj = synth.layout, synth.objective
    net = CTGAN(layout.width, layout.cond_width, pac=1, generator_hidden=(8,),
                discriminator_hidden=(8,), noise_dim=obj.noise_dim, rngs=nnx.Rngs(0))
    models = {"generator": net.generator, "discriminator": net.discriminator}
    a = {"x": jnp.zeros((6, layout.width)), "cond": jnp.zeros((6, layout.cond_width))}
    b = {"x": jnp.ones((6, layout.width)), "cond": jnp.ones((6, layout.cond_width))}
    key = jax.random.key(0)
    assert float(obj.player_loss("generator", models, a, key)[0]) == float(
        obj.player_loss("generator", models, b, key)[0])
