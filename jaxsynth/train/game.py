"""The multi-player step (GANs): players take turns inside one pure update.

An objective with ``players = (("discriminator", k), ("generator", 1))`` and
``player_loss(player, models, batch, rng) -> (loss, metrics)`` is trained by updating each player
``k`` times in order, each with its own optimizer and only its own parameters, all inside one
jitted (or scanned) step. ``models`` maps each player's name to its merged module, so a loss can
call the other players (their parameters held fixed for that update).

An objective with ``batches_per_step = k`` gets a batch of ``k`` slices: update ``i`` of a
player reads slice ``i mod k`` (rows ``i, i + k, i + 2k, ...``, which keeps each device's rows on
that device), so WGAN-GP's critic updates each see fresh real data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from jaxsynth.data.pipeline import MASK_KEY
from jaxsynth.privacy import DPSGD
from jaxsynth.train import rng as rng_lib
from jaxsynth.train.sharding import data_sharded, replicated
from jaxsynth.train.state import TrainState, split_model
from jaxsynth.train.step import ema_decay_at


def split_players(model: nnx.Module, players: tuple[str, ...]):
    """``(graphdefs, params, model_state)``, each a dict by player name, from a module whose
    attributes named by ``players`` are the players' sub-modules."""
    graphdefs, params, rest = {}, {}, {}
    for p in players:
        graphdefs[p], params[p], rest[p] = split_model(getattr(model, p))
    return graphdefs, params, rest


def init_game_state(params: Mapping[str, Any], model_state: Mapping[str, Any],
                    optimizers: Mapping[str, optax.GradientTransformation]) -> TrainState:
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=dict(params),
        ema_params=jax.tree.map(jnp.copy, dict(params)),
        model_state=dict(model_state),
        opt_state={p: optimizers[p].init(params[p]) for p in params},
    )


def make_game_update(
    graphdefs: Mapping[str, nnx.GraphDef],
    objective: Any,
    optimizers: Mapping[str, optax.GradientTransformation],
    *,
    root_key: jax.Array,
    ema_decay: float = 0.999,
    privacy: DPSGD | None = None,
    private_player: str = "discriminator",
) -> Callable[[TrainState, dict[str, jax.Array]], tuple[TrainState, dict[str, jax.Array]]]:
    """The pure update ``(state, batch) -> (state, metrics)`` of a game; ``state`` from
    :func:`init_game_state`. A step in which any player's loss or gradient is not finite leaves
    the whole state unchanged and reports ``metrics["nonfinite"] = 1``.

    With ``privacy``, ``private_player`` (the only player whose loss reads real data, as a GAN's
    discriminator) gets DP-SGD's gradient: its loss on each example of the Poisson batch (masked
    by ``batch[MASK_KEY]``) is differentiated, clipped and summed, then noised. The other
    players' losses must not read the data (a GAN's generator only sees the discriminator), so
    they are not privatised and cost no budget; the objective's ``private_updates`` must be 1
    per step, since each private update is one accounted DP-SGD step.
    """
    names = [p for p, _ in objective.players]
    chunks = int(getattr(objective, "batches_per_step", 1))
    if privacy is not None:
        counts = dict(objective.players)
        if counts.get(private_player) != 1:
            raise ValueError(f"under DP-SGD the {private_player!r} may update once per step (each "
                             f"private update is one accounted step), not {counts.get(private_player)}"
                             "; set objective.n_critic=1")
    if sorted(names) != sorted(graphdefs):
        raise ValueError(f"objective players {names} do not match the model's {sorted(graphdefs)}")

    def merged(params, model_state):
        return {p: nnx.merge(graphdefs[p], params[p], model_state[p]) for p in graphdefs}

    def private_gradient(player, params, state, part, key):
        data = {k: v for k, v in part.items() if k != MASK_KEY}

        def example_loss(own, example, k):
            one = jax.tree.map(lambda x: x[None], example)
            models = merged({**params, player: own}, state.model_state)
            loss, m = objective.player_loss(player, models, one, k)
            return loss, {"loss": loss}  # DP-SGD averages the real examples' losses

        dp_key = rng_lib.stream(root_key, state.step, f"{player}/dp")
        grads, m = privacy.private_grad(example_loss, params[player], data, part[MASK_KEY], key,
                                        dp_key)
        return m["loss"], m, grads

    def step(state: TrainState, batch):
        params, opt_state = dict(state.params), dict(state.opt_state)
        metrics, finite = {}, jnp.array(True)
        for player, updates in objective.players:
            for i in range(updates):
                key = rng_lib.stream(root_key, state.step, f"{player}/{i}")
                part = batch_slice(batch, i % chunks, chunks)

                def loss_of(own, player=player, key=key, part=part):
                    models = merged({**params, player: own}, state.model_state)
                    return objective.player_loss(player, models, part, key)

                if privacy is not None and player == private_player:
                    loss, m, grads = private_gradient(player, params, state, part, key)
                else:
                    part.pop(MASK_KEY, None)
                    (loss, m), grads = jax.value_and_grad(loss_of, has_aux=True)(params[player])
                upd, opt_state[player] = optimizers[player].update(grads, opt_state[player],
                                                                   params[player])
                params[player] = optax.apply_updates(params[player], upd)
                norm = optax.global_norm(grads)
                finite = finite & jnp.isfinite(loss) & jnp.isfinite(norm)
                metrics.update(m)
                metrics[f"{player}_grad_norm"] = norm
        d = ema_decay_at(state.step, ema_decay)
        ema = jax.tree.map(lambda e, p: d * e + (1.0 - d) * p, state.ema_params, params)
        new = state.replace(step=state.step + 1, params=params, ema_params=ema, opt_state=opt_state)
        new = jax.lax.cond(finite, lambda: new, lambda: state)
        metrics["nonfinite"] = jnp.logical_not(finite).astype(jnp.int32)
        return new, metrics

    return step


def batch_slice(batch: Mapping[str, jax.Array], i: int, k: int) -> dict[str, jax.Array]:
    """Rows ``i, i + k, i + 2k, ...`` of every entry (the whole batch when ``k == 1``).

    >>> batch_slice({"x": jnp.arange(6)}, 1, 3)["x"].tolist()
    [1, 4]
    """
    if k == 1:
        return dict(batch)
    out = {}
    for name, v in batch.items():
        if v.shape[0] % k:
            raise ValueError(f"batch entry {name!r} has {v.shape[0]} rows, not a multiple of the "
                             f"{k} slices per step")
        out[name] = v.reshape((v.shape[0] // k, k) + v.shape[1:])[:, i]
    return out


def make_game_train_step(graphdefs, objective, optimizers, *, mesh, root_key: jax.Array,
                         ema_decay: float = 0.999, privacy: DPSGD | None = None):
    """:func:`make_game_update` jitted over ``mesh``: state replicated and donated, batch
    sharded on the ``data`` axis."""
    step = make_game_update(graphdefs, objective, optimizers, root_key=root_key,
                            ema_decay=ema_decay, privacy=privacy)
    return jax.jit(step, in_shardings=(replicated(mesh), data_sharded(mesh)),
                   out_shardings=(replicated(mesh), replicated(mesh)), donate_argnums=(0,))
