"""The adversarial objective: gradient penalty, losses, conditional players, the game step."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from jaxsynth.models.gan import GAN, Discriminator
from jaxsynth.objectives.adversarial import Adversarial, gradient_penalty
from jaxsynth.train.game import init_game_state, make_game_update, split_players


def test_gradient_penalty_of_a_tiny_critic_equals_the_hand_computed_value():
    # critic(x) = v . tanh(W x); with real == fake the interpolate is x whatever the mixing, so
    # grad = W^T (v * (1 - tanh(W x)^2)) is known in closed form.
    rng = np.random.default_rng(0)
    w, v = rng.normal(size=(3, 4)), rng.normal(size=3)
    x = rng.normal(size=(5, 4))
    grads = (v * (1 - np.tanh(x @ w.T) ** 2)) @ w
    expected = np.mean((np.linalg.norm(grads, axis=1) - 1.0) ** 2)

    def critic(b):
        return jnp.tanh(b @ jnp.asarray(w.T, jnp.float32)) @ jnp.asarray(v, jnp.float32)

    xj = jnp.asarray(x, jnp.float32)
    got = gradient_penalty(critic, xj, xj, jax.random.key(3))
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)
    # Grouped (PacGAN) norms take each group's gradients together.
    grouped = gradient_penalty(critic, xj[:4], xj[:4], jax.random.key(3), group=2)
    pairs = np.linalg.norm(grads[:4].reshape(2, -1), axis=1)
    np.testing.assert_allclose(float(grouped), np.mean((pairs - 1.0) ** 2), rtol=1e-5)


def _players(num_classes=0):
    gan = GAN((8, 8, 1), latent_dim=4, generator_channels=(8,), discriminator_channels=(8,),
              num_classes=num_classes, rngs=nnx.Rngs(0))
    return {"generator": gan.generator, "discriminator": gan.discriminator}


@pytest.mark.parametrize("loss", ["non_saturating", "hinge", "wgan_gp"])
def test_losses_have_their_textbook_form(loss):
    models = _players()
    x = jax.random.uniform(jax.random.key(1), (6, 8, 8, 1), minval=-1, maxval=1)
    obj = Adversarial(loss=loss, gp_weight=0.0)
    key = jax.random.key(2)
    d_loss, m = obj.player_loss("discriminator", models, {"image": x}, key)
    real = models["discriminator"](x)
    fake = models["discriminator"](models["generator"](
        jax.random.normal(jax.random.split(key)[0], (6, 4))))
    if loss == "non_saturating":
        want_d = jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))
        want_g = jnp.mean(jax.nn.softplus(-fake))
    elif loss == "hinge":
        want_d = jnp.mean(jax.nn.relu(1 - real)) + jnp.mean(jax.nn.relu(1 + fake))
        want_g = -jnp.mean(fake)
    else:
        want_d, want_g = jnp.mean(fake) - jnp.mean(real), -jnp.mean(fake)
    np.testing.assert_allclose(d_loss, want_d, rtol=1e-5, atol=1e-6)
    g_loss, _ = obj.player_loss("generator", models, {"image": x}, key)
    np.testing.assert_allclose(g_loss, want_g, rtol=1e-5, atol=1e-6)
    assert m["loss"] == d_loss


def test_conditional_players_use_their_labels():
    models = _players(num_classes=3)
    x = jax.random.uniform(jax.random.key(0), (2, 8, 8, 1))
    d = models["discriminator"]
    assert not np.allclose(d(x, jnp.array([0, 0])), d(x, jnp.array([1, 1])))
    with pytest.raises(ValueError, match="conditional"):
        d(x)
    obj = Adversarial(loss="hinge", label_key="label")
    out = obj.sample(models, (4, 8, 8, 1), jax.random.key(0), labels=jnp.array([0, 1, 2, 0]))
    assert out.shape == (4, 8, 8, 1) and float(jnp.max(jnp.abs(out))) <= 1.0
    with pytest.raises(ValueError, match="guidance"):
        obj.sample(models, (1, 8, 8, 1), jax.random.key(0), guidance=2.0)
    with pytest.raises(ValueError, match="shape"):
        Discriminator((8, 8, 1), channels=(8,), rngs=nnx.Rngs(0))(jnp.zeros((1, 4, 4, 1)))


class _Scalar(nnx.Module):
    def __init__(self):
        self.w = nnx.Param(jnp.zeros(()))


class _Pair(nnx.Module):
    def __init__(self):
        self.discriminator, self.generator = _Scalar(), _Scalar()


@dataclasses.dataclass(frozen=True)
class _Recorder:
    """Each update's loss is ``w * (first row of its slice)``: with SGD at rate 1 the update
    subtracts the row it read."""

    players = (("discriminator", 2), ("generator", 1))
    batches_per_step = 2

    def player_loss(self, player, models, batch, rng):
        loss = models[player].w.value * batch["x"][0]
        return loss, {"loss": loss}


def test_critic_updates_each_read_their_own_slice_of_the_batch():
    graphdefs, params, rest = split_players(_Pair(), ("discriminator", "generator"))
    opts = {p: optax.sgd(1.0) for p in graphdefs}
    step = make_game_update(graphdefs, _Recorder(), opts, root_key=jax.random.key(0))
    x = jnp.array([1.0, 10.0, 100.0, 1000.0])  # slice 0: rows 0, 2; slice 1: rows 1, 3
    state, metrics = step(init_game_state(params, rest, opts), {"x": x})
    assert float(state.params["discriminator"]["w"].value) == -11.0  # read x[0] then x[1]
    assert float(state.params["generator"]["w"].value) == -1.0  # slice 0
    assert int(state.step) == 1 and int(metrics["nonfinite"]) == 0
    with pytest.raises(ValueError, match="multiple"):
        step(init_game_state(params, rest, opts), {"x": x[:3]})


def test_dp_gan_privatises_the_discriminator_as_a_loop_over_examples():
    from jaxsynth.data.pipeline import MASK_KEY
    from jaxsynth.privacy import DPSGD
    from jaxsynth.train import rng as rng_lib

    gan = GAN((8, 8, 1), latent_dim=4, generator_channels=(8,), discriminator_channels=(8,),
              num_classes=3, rngs=nnx.Rngs(0))
    graphdefs, params, rest = split_players(gan, ("discriminator", "generator"))
    opts = {p: optax.sgd(1.0) for p in graphdefs}
    # (The gradient penalty inside a clipped per-example term is exercised by DP-CTGAN's test.)
    obj = Adversarial(loss="hinge", label_key="label")
    dp = DPSGD(l2_clip_norm=0.05, noise_multiplier=0.0, expected_batch_size=5.0, fast_path=False)
    root = jax.random.key(7)
    step = make_game_update(graphdefs, obj, opts, root_key=root, privacy=dp)
    x = jax.random.uniform(jax.random.key(1), (4, 8, 8, 1), minval=-1, maxval=1)
    labels, mask = jnp.array([0, 2, 1, 1]), jnp.array([1.0, 1.0, 1.0, 0.0])
    state, metrics = step(init_game_state(params, rest, opts),
                          {"image": x, "label": labels, MASK_KEY: mask})

    keys = jax.random.split(rng_lib.stream(root, jnp.int32(0), "discriminator/0"), 4)
    total = jax.tree.map(jnp.zeros_like, params["discriminator"])
    for i in range(3):  # the padded fourth row contributes nothing
        def loss(d, i=i):
            models = {"generator": nnx.merge(graphdefs["generator"], params["generator"],
                                             rest["generator"]),
                      "discriminator": nnx.merge(graphdefs["discriminator"], d,
                                                 rest["discriminator"])}
            return obj.player_loss("discriminator", models,
                                   {"image": x[i:i + 1], "label": labels[i:i + 1]}, keys[i])[0]
        g = jax.grad(loss)(params["discriminator"])
        norm = optax.global_norm(g)
        total = jax.tree.map(lambda t, gi, n=norm: t + gi * jnp.minimum(1.0, 0.05 / n), total, g)
    want = jax.tree.map(lambda p, t: p - t / 5.0, params["discriminator"], total)
    for a, b in zip(jax.tree.leaves(state.params["discriminator"]), jax.tree.leaves(want),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="n_critic=1"):
        make_game_update(graphdefs, Adversarial(n_critic=2), opts, root_key=root, privacy=dp)


def test_games_whose_other_players_read_data_cannot_train_privately():
    from helpers import ROOT
    from jaxsynth.config import load_config
    from jaxsynth.train.experiment import Experiment

    config = load_config(f"{ROOT}/experiments/digits_vae_gan.py:smoke")
    config.privacy = {"noise_multiplier": 1.0, "delta": 1e-5, "l2_clip_norm": 1.0}
    with pytest.raises(ValueError, match="read real data"):
        Experiment(config)
