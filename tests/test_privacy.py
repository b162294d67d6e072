import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from jaxsynth.data import MASK_KEY, ArraySource, PoissonBatchIterator
from jaxsynth.models import MLP
from jaxsynth.privacy import (
    DPSGD,
    clip_per_parameter,
    clip_to_norm,
    clipped_grad_sum,
    epsilon,
    ghost_clipped_grad_sum,
    noise_multiplier_for,
    supports_ghost,
)
from jaxsynth.train.sharding import make_mesh


def linear_loss(params, example, key):
    del key
    pred = example["x"] @ params["w"] + params["b"]
    loss = jnp.mean((pred - example["y"]) ** 2)
    return loss, {"loss": loss}


def make_batch(n, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32) * scale
    y = rng.normal(size=(n, 2)).astype(np.float32)
    # Some examples with huge gradients, some tiny: clipping must bind for some, not all.
    x[::3] *= 50.0
    x[1::3] *= 0.01
    return {"x": jnp.asarray(x), "y": jnp.asarray(y)}


PARAMS = {"w": jnp.ones((3, 2)) * 0.3, "b": jnp.zeros((2,))}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("clip", [0.01, 1.0, 30.0])
def test_each_clipped_example_gradient_is_within_the_bound(seed, clip):
    batch = make_batch(12, seed)
    grads = jax.vmap(lambda ex: jax.grad(linear_loss, has_aux=True)(PARAMS, ex, None)[0])(batch)
    clipped, norms = jax.vmap(lambda g: clip_to_norm(g, clip))(grads)
    clipped_norms = jax.vmap(lambda g: jnp.sqrt(sum(jnp.sum(v**2) for v in jax.tree.leaves(g))))(
        clipped)
    assert np.all(np.asarray(clipped_norms) <= clip * (1 + 1e-5))
    unclipped = np.asarray(norms) <= clip  # gradients already inside the ball are untouched
    np.testing.assert_allclose(np.asarray(clipped_norms)[unclipped], np.asarray(norms)[unclipped],
                               rtol=1e-5)


def hand_written_dp_sum(params, batch, clip):
    total = jax.tree.map(jnp.zeros_like, params)
    for i in range(batch["x"].shape[0]):
        ex = {k: v[i:i + 1] for k, v in batch.items()}
        g = jax.grad(lambda p, ex=ex: linear_loss(p, ex, None)[0])(params)
        norm = np.sqrt(sum(float(jnp.sum(v**2)) for v in jax.tree.leaves(g)))
        factor = min(1.0, clip / norm)
        total = jax.tree.map(lambda t, v, f=factor: t + f * v, total, g)
    return total


def test_dp_gradient_without_noise_equals_a_loop_over_examples():
    batch = make_batch(9)
    dp = DPSGD(l2_clip_norm=1.0, noise_multiplier=0.0, expected_batch_size=12.0)
    grads, metrics = dp.private_grad(linear_loss, PARAMS, batch, jnp.ones(9), jax.random.key(0),
                                     jax.random.key(1))
    expected = jax.tree.map(lambda t: t / 12.0, hand_written_dp_sum(PARAMS, batch, 1.0))
    for a, b in zip(jax.tree.leaves(grads), jax.tree.leaves(expected), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert 0 < float(metrics["clip_fraction"]) < 1


def test_masked_padding_changes_nothing_and_microbatching_agrees():
    batch = make_batch(6)
    padded = {k: jnp.concatenate([v, 1e6 * jnp.ones((2,) + v.shape[1:])]) for k, v in batch.items()}
    mask = jnp.array([1, 1, 1, 1, 1, 1, 0, 0], jnp.float32)
    keys = jax.random.split(jax.random.key(0), 8)
    ref, _ = clipped_grad_sum(linear_loss, PARAMS, batch, jnp.ones(6), keys[:6], l2_clip_norm=1.0)
    got, m = clipped_grad_sum(linear_loss, PARAMS, padded, mask, keys, l2_clip_norm=1.0)
    micro, _ = clipped_grad_sum(linear_loss, PARAMS, padded, mask, keys, l2_clip_norm=1.0,
                                microbatch_size=2)
    for a, b, c in zip(jax.tree.leaves(ref), jax.tree.leaves(got), jax.tree.leaves(micro),
                       strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-7)
    assert np.isfinite(float(m["loss"]))


def test_noise_has_the_calibrated_std():
    params = {"w": jnp.zeros((100, 100))}

    def constant_loss(p, example, key):
        loss = 0.0 * jnp.sum(p["w"]) + jnp.sum(example["x"])
        return loss, {"loss": loss}

    sigma, clip, expected_b = 2.0, 0.5, 10.0
    dp = DPSGD(l2_clip_norm=clip, noise_multiplier=sigma, expected_batch_size=expected_b)
    grads, _ = dp.private_grad(constant_loss, params, {"x": jnp.ones((4, 1))}, jnp.ones(4),
                               jax.random.key(0), jax.random.key(42))
    g = np.asarray(grads["w"]).ravel()
    want = sigma * clip / expected_b  # 0.1
    # 10,000 draws: the sample std's standard error is want/sqrt(2 * 10^4) ~ 0.7% of want.
    assert abs(g.std() / want - 1) < 0.03 and abs(g.mean()) < 4 * want / 100


# Reference epsilons from Opacus 1.6.0's RDP accountant (opacus.accountants.RDPAccountant, an
# independent implementation), computed once in a separate environment with
# benchmarks/opacus_epsilon_reference.py; (q, sigma, steps, delta) -> epsilon.
OPACUS_RDP = {
    (256 / 60_000, 1.1, 14_062, 1e-5): 2.5965558689607486,
    (256 / 60_000, 1.1, 3_515, 1e-5): 1.281144275963647,
    (0.01, 0.8, 1_000, 1e-5): 3.695428832544017,
    (0.05, 2.0, 500, 1e-6): 3.1018682543968032,
    (1.0, 5.0, 10, 1e-5): 2.8136532471298397,
}


@pytest.mark.parametrize("setting", sorted(OPACUS_RDP), ids=str)
def test_rdp_epsilon_agrees_with_opacus(setting):
    q, sigma, steps, delta = setting
    got = epsilon(noise_multiplier=sigma, sampling_rate=q, steps=steps, delta=delta)
    assert got == pytest.approx(OPACUS_RDP[setting], rel=1e-3)


def test_accountants_are_consistent():
    q, steps, delta = 256 / 60_000, 14_062, 1e-5
    rdp = epsilon(noise_multiplier=1.1, sampling_rate=q, steps=steps, delta=delta)
    pld = epsilon(noise_multiplier=1.1, sampling_rate=q, steps=steps, delta=delta, accountant="pld")
    assert 0 < pld <= rdp  # PLD accounting is tighter than RDP
    assert epsilon(noise_multiplier=1.1, sampling_rate=q, steps=steps // 2, delta=delta) < rdp
    assert epsilon(noise_multiplier=2.0, sampling_rate=q, steps=steps, delta=delta) < rdp
    sigma = noise_multiplier_for(target_epsilon=3.0, delta=delta, sampling_rate=q, steps=steps)
    got = epsilon(noise_multiplier=sigma, sampling_rate=q, steps=steps, delta=delta)
    assert 2.9 < got <= 3.0 + 1e-6
    with pytest.raises(ValueError, match="sampling_rate"):
        epsilon(noise_multiplier=1.0, sampling_rate=1.5, steps=1, delta=1e-5)


def test_poisson_batches_have_fixed_shape_right_rate_and_resume():
    src = ArraySource({"x": np.arange(1000, dtype=np.float32)})
    it = PoissonBatchIterator(src, sampling_rate=0.05, mesh=make_mesh(1), seed=3)
    sizes = []
    for _ in range(200):
        b = next(it)
        assert b["x"].shape == (it.padded_size,) and b[MASK_KEY].shape == (it.padded_size,)
        sizes.append(float(b[MASK_KEY].sum()))
    assert abs(np.mean(sizes) - 50) < 2.0 and np.std(sizes) > 3  # Binomial(1000, 0.05)
    state = it.get_state()
    want = [np.asarray(next(it)["x"]) for _ in range(3)]
    again = PoissonBatchIterator(src, sampling_rate=0.05, mesh=make_mesh(1), seed=3)
    again.set_state(state)
    np.testing.assert_array_equal(np.stack(want), np.stack([np.asarray(next(again)["x"])
                                                            for _ in range(3)]))


class Regression:
    """A deterministic objective (so both DP paths see the very same per-example losses)."""

    def loss(self, model, batch, rng):
        loss = jnp.mean((model(batch["x"]) - batch["y"]) ** 2)
        return loss, {"loss": loss}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("seq_len", [None, 4])
def test_ghost_path_equals_vmap_path(bias, seq_len):
    graphdef, params, rest = nnx.split(MLP((5, 16, 3), use_bias=bias, rngs=nnx.Rngs(0)), nnx.Param, ...)
    rng = np.random.default_rng(1)
    lead = (7,) if seq_len is None else (7, seq_len)
    x = rng.normal(size=lead + (5,)).astype(np.float32) * np.arange(1, 8).reshape(
        (7,) + (1,) * len(lead))
    batch = {"x": jnp.asarray(x), "y": jnp.asarray(rng.normal(size=lead + (3,)), jnp.float32)}
    mask = jnp.array([1, 1, 1, 0, 1, 1, 1], jnp.float32)
    obj = Regression()
    fast, fm = ghost_clipped_grad_sum(graphdef, params, rest, obj.loss, batch, mask,
                                      jax.random.key(0), l2_clip_norm=1.0)

    def example_loss(p, ex, k):
        return obj.loss(nnx.merge(graphdef, p, rest), jax.tree.map(lambda v: v[None], ex), k)

    slow, sm = clipped_grad_sum(example_loss, params, batch, mask,
                                jax.random.split(jax.random.key(0), 7), l2_clip_norm=1.0)
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(slow), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fm["grad_norm_mean"], sm["grad_norm_mean"], rtol=1e-4)
    assert 0 < float(sm["clip_fraction"]) <= 1


class SmallCNN(nnx.Module):
    """Strided and padded 2-D convolutions (one wide enough for the direct per-example norm,
    one narrow enough for the Gram form), a 1-D convolution and a dense head."""

    def __init__(self, rngs, padding="SAME"):
        self.c1 = nnx.Conv(1, 6, (3, 3), strides=2, padding=padding, rngs=rngs)
        self.c2 = nnx.Conv(6, 16, (2, 2), padding="VALID", rngs=rngs)  # Gram: 9 * 40 <= 24 * 16
        self.c3 = nnx.Conv(16, 3, (3,), padding=1, use_bias=False, rngs=rngs)
        self.head = nnx.Linear(3, 1, rngs=rngs)

    def __call__(self, x):
        h = nnx.silu(self.c2(nnx.silu(self.c1(x))))  # [B, 3, 3, 16]
        h = nnx.silu(self.c3(h.reshape(h.shape[0], -1, h.shape[-1])))  # [B, 9, 3]
        return self.head(h.mean(1))


@pytest.mark.parametrize("per_layer", [False, True])
def test_ghost_path_equals_vmap_path_for_convolutions(per_layer):
    model = SmallCNN(nnx.Rngs(0))
    assert supports_ghost(model) and not supports_ghost(SmallCNN(nnx.Rngs(0), "CIRCULAR"))
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 7, 7, 1)).astype(np.float32) * np.arange(1, 7).reshape(6, 1, 1, 1)
    batch = {"x": jnp.asarray(x), "y": jnp.asarray(rng.normal(size=(6, 1)), jnp.float32)}
    mask = jnp.array([1, 0, 1, 1, 1, 1], jnp.float32)
    obj = Regression()
    fast, fm = ghost_clipped_grad_sum(graphdef, params, rest, obj.loss, batch, mask,
                                      jax.random.key(0), l2_clip_norm=0.5, per_layer=per_layer)

    def example_loss(p, ex, k):
        return obj.loss(nnx.merge(graphdef, p, rest), jax.tree.map(lambda v: v[None], ex), k)

    slow, sm = clipped_grad_sum(example_loss, params, batch, mask,
                                jax.random.split(jax.random.key(0), 6), l2_clip_norm=0.5,
                                per_layer=per_layer)
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(slow), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fm["grad_norm_mean"], sm["grad_norm_mean"], rtol=1e-4)


def test_ghost_support_is_detected():
    assert supports_ghost(MLP((3, 4, 2), rngs=nnx.Rngs(0)))

    class WithNorm(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(3, 4, rngs=rngs)
            self.norm = nnx.LayerNorm(4, rngs=rngs)

    assert not supports_ghost(WithNorm(nnx.Rngs(0)))
    from jaxsynth.models import build_model

    assert not supports_ghost(build_model("unet", (8, 8, 1), channels=8, num_heads=2))


def test_a_dense_layer_used_twice_is_refused():
    class Tied(nnx.Module):
        def __init__(self, rngs):
            self.dense = nnx.Linear(3, 3, rngs=rngs)

        def __call__(self, x):
            return self.dense(self.dense(x))

    graphdef, params, rest = nnx.split(Tied(nnx.Rngs(0)), nnx.Param, ...)
    batch = {"x": jnp.ones((2, 3)), "y": jnp.ones((2, 3))}
    with pytest.raises(ValueError, match="more than once"):
        ghost_clipped_grad_sum(graphdef, params, rest, Regression().loss, batch, jnp.ones(2),
                               jax.random.key(0), l2_clip_norm=1.0)


def test_private_train_step_fast_and_vmap_paths_agree():
    import optax

    from jaxsynth.train import make_train_step
    from jaxsynth.train.state import init_state

    graphdef, params, rest = nnx.split(MLP((5, 8, 2), rngs=nnx.Rngs(0)), nnx.Param, ...)
    batch = {"x": jnp.asarray(np.random.default_rng(0).normal(size=(6, 5)), jnp.float32),
             "y": jnp.zeros((6, 2)), MASK_KEY: jnp.array([1, 1, 1, 1, 0, 0], jnp.float32)}
    out = []
    for fast in (True, False):
        dp = DPSGD(l2_clip_norm=0.5, noise_multiplier=1.0, expected_batch_size=4.0,
                   fast_path=fast)
        step = make_train_step(graphdef, Regression(), optax.sgd(0.1), mesh=make_mesh(1),
                               root_key=jax.random.key(3), privacy=dp)
        fresh = jax.tree.map(jnp.copy, params)
        state, _ = step(init_state(fresh, rest, optax.sgd(0.1)), batch)
        out.append(jax.device_get(state.params))
    for a, b in zip(jax.tree.leaves(out[0]), jax.tree.leaves(out[1]), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("seq_len", [None, 3])
def test_per_layer_clipping_bounds_each_array_and_both_paths_agree(seq_len):
    graphdef, params, rest = nnx.split(MLP((4, 6, 2), rngs=nnx.Rngs(1)), nnx.Param, ...)
    rng = np.random.default_rng(2)
    lead = (5,) if seq_len is None else (5, seq_len)
    batch = {"x": jnp.asarray(rng.normal(size=lead + (4,)) * 10, jnp.float32),
             "y": jnp.asarray(rng.normal(size=lead + (2,)), jnp.float32)}
    obj, clip, mask = Regression(), 0.8, jnp.ones(5)

    def example_loss(p, ex, k):
        return obj.loss(nnx.merge(graphdef, p, rest), jax.tree.map(lambda v: v[None], ex), k)

    # Every per-example, per-array clipped gradient is within C / sqrt(J).
    n_arrays = len(jax.tree.leaves(params))
    for i in range(5):
        g = jax.grad(lambda p, i=i: example_loss(p, jax.tree.map(lambda v: v[i], batch), None)[0])(
            params)
        clipped, _ = clip_per_parameter(g, clip)
        for leaf in jax.tree.leaves(clipped):
            assert float(jnp.sqrt(jnp.sum(leaf**2))) <= clip / np.sqrt(n_arrays) * (1 + 1e-5)
    slow, _ = clipped_grad_sum(example_loss, params, batch, mask,
                               jax.random.split(jax.random.key(0), 5), l2_clip_norm=clip,
                               per_layer=True)
    fast, _ = ghost_clipped_grad_sum(graphdef, params, rest, obj.loss, batch, mask,
                                     jax.random.key(0), l2_clip_norm=clip, per_layer=True)
    for a, b in zip(jax.tree.leaves(fast), jax.tree.leaves(slow), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_poisson_batches_from_any_indexable_source_match_array_gathers():
    class RowSource:  # not an ArraySource: records come one by one
        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            return {"x": np.float32(i)}

    kw = dict(sampling_rate=0.1, mesh=make_mesh(1), seed=4)
    a = PoissonBatchIterator(ArraySource({"x": np.arange(100, dtype=np.float32)}), **kw)
    b = PoissonBatchIterator(RowSource(100), **kw)
    for _ in range(5):
        ba, bb = next(a), next(b)
        np.testing.assert_array_equal(np.asarray(ba["x"]), np.asarray(bb["x"]))
        np.testing.assert_array_equal(np.asarray(ba[MASK_KEY]), np.asarray(bb[MASK_KEY]))
        real = np.asarray(ba["x"])[np.asarray(ba[MASK_KEY]) == 1]
        assert len(set(real.tolist())) == len(real)  # no record twice in one batch
