"""Objectives for encoded tables: CTGAN (WGAN-GP game), TVAE (mixed-type ELBO), TabDDPM
(Gaussian + multinomial diffusion).

Rows come from :class:`jaxsynth.data.TableEncoder` as ``x: [batch, width]``; a
:class:`TableLayout` says which columns of ``x`` are continuous values and which are one-hot
blocks. Conditioning uses a *condition vector* ``cond: [batch, cond_width]``: the one-hot blocks of
the categorical columns, zeroed for the columns not conditioned on.

- ``CTGANObjective`` is a two-player game (``players``), trained by
  :func:`jaxsynth.train.game.make_game_update`; real rows come from training-by-sampling
  (:class:`ConditionSampler`), so each condition is met by a real row that satisfies it.
- ``TVAEObjective`` and ``TabDDPMObjective`` are single-loss objectives for the shared step. They
  learn conditioning by revealing a random subset of each row's categorical columns in ``cond``
  (none, half the time), so one model samples unconditionally or under any set of categorical
  conditions, with no rejection loop.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth.diffusion.schedules import NoiseSchedule
from jaxsynth.objectives.adversarial import gradient_penalty

Block = tuple[int, int]  # (start, width) of a one-hot block in x


@dataclasses.dataclass(frozen=True)
class TableLayout:
    """Static description of encoded rows. ``continuous``: indices of real-valued columns;
    ``blocks``: every one-hot block; ``cond_blocks``: the blocks of categorical columns (a
    subset of ``blocks``), which make up the condition vector in order; ``bounded``: continuous
    values live in ``[-1, 1]`` (mode-specific normalisation) rather than on the real line.

    Block-wise operations (softmax, sampling, sums) run on all blocks at once through segment
    reductions over the columns, not a Python loop over blocks: the compiled step stays small
    however many columns a table has.
    """

    width: int
    continuous: tuple[int, ...]
    blocks: tuple[Block, ...]
    cond_blocks: tuple[Block, ...]
    bounded: bool

    @classmethod
    def from_encoder(cls, encoder) -> TableLayout:
        cont = tuple(s.start for s in encoder.spans if s.kind == "continuous")
        blocks = tuple((s.start, s.width) for s in encoder.spans if s.kind == "softmax")
        cond = tuple((s.start, s.width) for s in encoder.spans if s.role == "category")
        return cls(encoder.width, cont, blocks, cond, encoder.numerical in ("gmm", "minmax"))

    @property
    def cond_width(self) -> int:
        return sum(w for _, w in self.cond_blocks)

    # Static per-column tables (numpy; constants in the compiled program).
    @functools.cached_property
    def segments(self) -> np.ndarray:
        """``[width]`` block id of each column; continuous columns share id ``len(blocks)``."""
        seg = np.full(self.width, len(self.blocks), np.int32)
        for j, (s, w) in enumerate(self.blocks):
            seg[s:s + w] = j
        return seg

    @functools.cached_property
    def in_block(self) -> np.ndarray:
        """``[width]`` bool: the column belongs to a one-hot block."""
        return self.segments < len(self.blocks)

    @functools.cached_property
    def block_width(self) -> np.ndarray:
        """``[width]`` float32: the width of each column's block (1 for continuous columns)."""
        bw = np.ones(self.width, np.float32)
        for s, w in self.blocks:
            bw[s:s + w] = w
        return bw

    @functools.cached_property
    def cond_positions(self) -> np.ndarray:
        """``[cond_width]`` the columns of ``x`` that make up the condition vector."""
        return np.concatenate([np.arange(s, s + w) for s, w in self.cond_blocks] or
                              [np.zeros(0, np.int64)]).astype(np.int32)

    @functools.cached_property
    def cond_segments(self) -> np.ndarray:
        """``[cond_width]`` the categorical column (0 .. n_cond_blocks-1) of each entry of cond."""
        return np.concatenate([np.full(w, j) for j, (_, w) in enumerate(self.cond_blocks)] or
                              [np.zeros(0, np.int64)]).astype(np.int32)

    def _per_block(self, x: jax.Array, reduce) -> jax.Array:
        """Reduce ``x: [B, width]`` within each block and broadcast back to ``[B, width]``."""
        red = reduce(x.T, jnp.asarray(self.segments), num_segments=len(self.blocks) + 1)
        return red.T[:, self.segments]

    def block_totals(self, v: jax.Array) -> jax.Array:
        """``[B, n_blocks]``: the sum of ``v: [B, width]`` over each block's columns."""
        red = jax.ops.segment_sum(v.T, jnp.asarray(self.segments), num_segments=len(self.blocks) + 1)
        return red[:-1].T

    def block_log_softmax(self, logits: jax.Array) -> jax.Array:
        """Log-softmax within each block (values on continuous columns are meaningless)."""
        z = logits - jax.lax.stop_gradient(self._per_block(logits, jax.ops.segment_max))
        return z - jnp.log(self._per_block(jnp.exp(z), jax.ops.segment_sum))

    def block_softmax(self, logits: jax.Array) -> jax.Array:
        return jnp.exp(self.block_log_softmax(logits))

    def block_sample(self, logits: jax.Array, key: jax.Array) -> jax.Array:
        """A one-hot draw from each block's softmax (Gumbel-max); continuous columns unchanged."""
        g = logits + jax.random.gumbel(key, logits.shape, logits.dtype)
        hit = g >= self._per_block(g, jax.ops.segment_max)
        return jnp.where(self.in_block, hit.astype(logits.dtype), logits)

    def cond_of(self, x: jax.Array, reveal: jax.Array) -> jax.Array:
        """``cond: [B, cond_width]`` from rows ``x`` with block ``j`` kept where ``reveal[:, j]``."""
        return x[:, self.cond_positions] * reveal[:, self.cond_segments]

    def own_condition(self, x: jax.Array, key: jax.Array) -> jax.Array:
        """``cond: [B, cond_width]``: each row's own category in one categorical column picked
        uniformly per row (a function of that row alone, as DP-SGD's per-example terms need)."""
        if not self.cond_blocks:
            return jnp.zeros((x.shape[0], 0), x.dtype)
        col = jax.random.randint(key, (x.shape[0],), 0, len(self.cond_blocks))
        return self.cond_of(x, jax.nn.one_hot(col, len(self.cond_blocks), dtype=x.dtype))

    def public_condition(self, key: jax.Array, batch: int) -> jax.Array:
        """``cond: [B, cond_width]``: a categorical column, then one of its categories, each
        uniformly: drawn from the layout (public metadata), reading no data."""
        if not self.cond_blocks:
            return jnp.zeros((batch, 0))
        k_col, k_cat = jax.random.split(key)
        widths = jnp.asarray([w for _, w in self.cond_blocks], jnp.float32)
        offsets = jnp.asarray(np.cumsum([0] + [w for _, w in self.cond_blocks])[:-1], jnp.int32)
        col = jax.random.randint(k_col, (batch,), 0, len(self.cond_blocks))
        cat = jnp.floor(jax.random.uniform(k_cat, (batch,)) * widths[col]).astype(jnp.int32)
        return jax.nn.one_hot(offsets[col] + cat, self.cond_width)

    def random_reveal(self, key: jax.Array, batch: int) -> jax.Array:
        """``[B, n_cond_blocks]`` 0/1: half the rows reveal nothing, the rest each block w.p. 1/2."""
        k1, k2 = jax.random.split(key)
        any_ = jax.random.bernoulli(k1, 0.5, (batch, 1))
        each = jax.random.bernoulli(k2, 0.5, (batch, len(self.cond_blocks)))
        return (any_ & each).astype(jnp.float32)

    def clamp(self, x: jax.Array, cond: jax.Array) -> jax.Array:
        """Overwrite the conditioned one-hot blocks of ``x`` with ``cond`` where it is set."""
        if not self.cond_blocks:
            return x
        on = jax.ops.segment_sum(cond.T, jnp.asarray(self.cond_segments),
                                 num_segments=len(self.cond_blocks)).T[:, self.cond_segments] > 0
        pos = self.cond_positions
        return x.at[:, pos].set(jnp.where(on, cond, x[:, pos]))


def _activate(layout: TableLayout, raw: jax.Array, key: jax.Array | None, tau: float) -> jax.Array:
    """CTGAN's output activations: tanh for continuous values, Gumbel-softmax (``key`` given) or
    softmax for one-hot blocks."""
    logits = raw if key is None else raw + jax.random.gumbel(key, raw.shape, raw.dtype)
    return jnp.where(layout.in_block, layout.block_softmax(logits / tau), jnp.tanh(raw))


# ---------------------------------------------------------------------------------- CTGAN
@jax.tree_util.register_pytree_node_class
class ConditionSampler:
    """CTGAN's training-by-sampling, as fixed-shape JAX gathers (usable inside ``lax.scan``).

    A categorical column is picked uniformly, then one of its categories with probability
    proportional to ``log(1 + count)``, then a real row holding that category.

    Args:
      x: ``[n, width]`` encoded rows (numpy); ``layout``: their layout.
    """

    def __init__(self, x: np.ndarray, layout: TableLayout):
        n = x.shape[0]
        self.n, self.layout = n, layout
        blocks = layout.cond_blocks
        if not blocks:
            return
        max_k = max(w for _, w in blocks)
        log_p = np.full((len(blocks), max_k), -np.inf, np.float32)
        order, starts, counts, offsets = [], [], [], []
        offset = 0
        for j, (s, w) in enumerate(blocks):
            cats = x[:, s:s + w].argmax(1)
            count = np.bincount(cats, minlength=w)
            log_p[j, :w] = np.log(np.log1p(count) / np.log1p(count).sum())
            rows = np.argsort(cats, kind="stable")
            starts.append(j * n + np.concatenate([[0], np.cumsum(count)[:-1]]))
            counts.append(count)
            order.append(rows)
            offsets.append(offset)
            offset += w
        self.log_p = jnp.asarray(log_p)
        self.order = jnp.asarray(np.concatenate(order), jnp.int32)
        self.starts = jnp.asarray(np.concatenate(starts), jnp.int32)
        self.counts = jnp.asarray(np.concatenate(counts), jnp.int32)
        self.offsets = jnp.asarray(offsets, jnp.int32)

    _ARRAYS = ("log_p", "order", "starts", "counts", "offsets")

    # A pytree (arrays as leaves), so a jitted function takes it as an argument rather than
    # baking the tables into the program as constants.
    def tree_flatten(self):
        leaves = tuple(getattr(self, a) for a in self._ARRAYS) if self.layout.cond_blocks else ()
        return leaves, (self.n, self.layout)

    @classmethod
    def tree_unflatten(cls, aux, leaves):
        obj = object.__new__(cls)
        obj.n, obj.layout = aux
        for name, leaf in zip(cls._ARRAYS, leaves, strict=False):
            setattr(obj, name, leaf)
        return obj

    def sample(self, key: jax.Array, batch: int):
        """``(cond: [B, cond_width], rows: [B] int32)``."""
        k_col, k_cat, k_row = jax.random.split(key, 3)
        if not self.layout.cond_blocks:
            return (jnp.zeros((batch, 0)), jax.random.randint(k_row, (batch,), 0, self.n))
        col = jax.random.randint(k_col, (batch,), 0, len(self.layout.cond_blocks))
        cat = jax.random.categorical(k_cat, self.log_p[col], axis=-1)
        g = self.offsets[col] + cat
        u = jax.random.uniform(k_row, (batch,))
        pos = self.starts[g] + jnp.minimum((u * self.counts[g]).astype(jnp.int32), self.counts[g] - 1)
        return jax.nn.one_hot(g, self.layout.cond_width), self.order[pos]


@dataclasses.dataclass(frozen=True)
class CTGANObjective:
    """WGAN-GP with PacGAN packing and a condition vector (Xu et al., 2019).

    ``players``: ``(name, updates per step)``, the discriminator first. The batch holds real rows
    ``x: [B, width]`` and their conditions ``cond: [B, cond_width]`` (from training-by-sampling).
    """

    layout: TableLayout
    noise_dim: int = 128
    gp_weight: float = 10.0
    tau: float = 0.2
    discriminator_steps: int = 1
    # DP-CTGAN: the generator's update draws its conditions from the layout (public metadata)
    # instead of the batch, so only the discriminator reads data.
    public_conditions: bool = False

    @property
    def players(self) -> tuple[tuple[str, int], ...]:
        return (("discriminator", self.discriminator_steps), ("generator", 1))

    def generate(self, generator, cond: jax.Array, key: jax.Array):
        """``(raw, rows)``: generator outputs and activated rows ``[B, width]`` (one-hot blocks
        as Gumbel-softmax probabilities, read by argmax when decoded)."""
        k_z, k_g = jax.random.split(key)
        z = jax.random.normal(k_z, (cond.shape[0], self.noise_dim))
        raw = generator(z, cond)
        return raw, _activate(self.layout, raw, k_g, self.tau)

    def player_loss(self, player: str, models, batch, rng):
        g, d = models["generator"], models["discriminator"]
        cond, real = batch["cond"], batch["x"]
        k_gen, k_d1, k_d2, k_gp = jax.random.split(rng, 4)
        if player == "generator" and self.public_conditions:
            cond = self.layout.public_condition(k_d2, real.shape[0])
        raw, fake = self.generate(g, cond, k_gen)
        if player == "generator":
            y_fake = d(jnp.concatenate([fake, cond], -1), k_d1)
            ce = _condition_cross_entropy(self.layout, raw, cond)
            loss = -jnp.mean(y_fake) + ce
            return loss, {"generator_loss": loss, "condition_ce": ce}
        fake = jax.lax.stop_gradient(fake)
        y_fake = d(jnp.concatenate([fake, cond], -1), k_d1)
        y_real = d(jnp.concatenate([real, cond], -1), k_d2)
        gp = self.gradient_penalty(d, jnp.concatenate([real, cond], -1),
                                   jnp.concatenate([fake, cond], -1), k_gp)
        wasserstein = jnp.mean(y_real) - jnp.mean(y_fake)
        loss = -wasserstein + self.gp_weight * gp
        return loss, {"discriminator_loss": loss, "wasserstein": wasserstein, "gradient_penalty": gp}

    def gradient_penalty(self, critic, real: jax.Array, fake: jax.Array, key: jax.Array):
        """WGAN-GP's penalty with the norm over each pack of ``pac`` rows (CTGAN's variant of
        :func:`jaxsynth.objectives.adversarial.gradient_penalty`)."""
        k_mix, k_drop = jax.random.split(key)
        return gradient_penalty(lambda v: critic(v, k_drop), real, fake, k_mix, group=critic.pac)


def _condition_cross_entropy(layout: TableLayout, raw: jax.Array, cond: jax.Array) -> jax.Array:
    """Mean over rows of the cross-entropy of the conditioned block's logits with its category."""
    if not layout.cond_blocks:
        return jnp.zeros(())
    log_p = layout.block_log_softmax(raw)[:, layout.cond_positions]
    return -jnp.mean(jnp.sum(cond * log_p, -1))


# ----------------------------------------------------------------------------------- TVAE
@dataclasses.dataclass(frozen=True)
class TVAEObjective:
    """Mixed-type ELBO (Xu et al., 2019): Gaussian likelihood with learned scale for continuous
    values (mean ``tanh`` of the decoder when bounded), categorical likelihood for one-hot blocks,
    standard-normal prior. ``loss_factor`` weighs the reconstruction as TVAE does; ``beta`` the KL.
    The loss is per row, in nats."""

    layout: TableLayout
    loss_factor: float = 2.0
    beta: float = 1.0

    def _mean(self, out):
        if not self.layout.continuous or not self.layout.bounded:
            return out
        return jnp.where(self.layout.in_block, out, jnp.tanh(out))

    def loss(self, model, batch, rng):
        x = batch["x"]
        k_reveal, k_z = jax.random.split(rng)
        cond = self.layout.cond_of(x, self.layout.random_reveal(k_reveal, x.shape[0]))
        mu, log_var = model.encode(x, cond)
        z = mu + jnp.exp(0.5 * log_var) * jax.random.normal(k_z, mu.shape)
        out = self._mean(model.decode(z, cond))
        rec = jnp.zeros(x.shape[0])
        if self.layout.continuous:
            idx = jnp.array(self.layout.continuous)
            log_sigma = jnp.clip(model.log_sigma[...][idx], jnp.log(0.01), 0.0)
            rec += jnp.sum(0.5 * ((x[:, idx] - out[:, idx]) / jnp.exp(log_sigma)) ** 2 + log_sigma, -1)
        if self.layout.blocks:
            log_p = jnp.where(self.layout.in_block, self.layout.block_log_softmax(out), 0.0)
            rec -= jnp.sum(x * log_p, -1)
        kl = 0.5 * jnp.sum(jnp.exp(log_var) + mu**2 - 1.0 - log_var, -1)
        loss = jnp.mean(self.loss_factor * rec + self.beta * kl)
        return loss, {"loss": loss, "reconstruction": jnp.mean(rec), "kl": jnp.mean(kl)}

    def sample(self, model, cond: jax.Array, key: jax.Array) -> jax.Array:
        """Rows ``[B, width]`` given ``cond`` (zeros: unconditional)."""
        k_z, k_noise, k_cat = jax.random.split(key, 3)
        z = jax.random.normal(k_z, (cond.shape[0], model.latent))
        out = self._mean(model.decode(z, cond))
        if self.layout.continuous:
            idx = jnp.array(self.layout.continuous)
            sigma = jnp.exp(jnp.clip(model.log_sigma[...][idx], jnp.log(0.01), 0.0))
            out = out.at[:, idx].add(sigma * jax.random.normal(k_noise, (out.shape[0], len(idx))))
        return self.layout.clamp(self.layout.block_sample(out, k_cat), cond)


# -------------------------------------------------------------------------------- TabDDPM
@dataclasses.dataclass(frozen=True)
class TabDDPMObjective:
    """TabDDPM (Kotelnikov et al., 2023): Gaussian diffusion (epsilon prediction, MSE) on the
    continuous columns and multinomial diffusion (Hoogeboom et al., 2021; x0-parameterised, KL
    between true and predicted posteriors) on every one-hot block, with one MLP denoiser.

    The loss is the MSE (per continuous value) plus the mean over blocks of the KL in nats.
    """

    layout: TableLayout
    schedule: NoiseSchedule

    @property
    def _is_cont(self) -> np.ndarray:
        return ~self.layout.in_block

    def _noisy(self, x0, t, key):
        """``(x_t, eps)``: Gaussian noise on continuous columns, a categorical draw from
        ``alpha_bar x0 + (1 - alpha_bar) / K`` in each block."""
        k_g, k_c = jax.random.split(key)
        ab = self.schedule.alpha_bar(t)[:, None]
        eps = jnp.where(self._is_cont, jax.random.normal(k_g, x0.shape), 0.0)
        gauss = jnp.sqrt(ab) * x0 + jnp.sqrt(1 - ab) * eps
        probs = ab * x0 + (1 - ab) / self.layout.block_width
        cats = self.layout.block_sample(jnp.log(probs), k_c)
        return jnp.where(self._is_cont, gauss, cats), eps

    def _posterior(self, x_t, x0_probs, t, s):
        """``q(x_s | x_t, x0)`` in every block, ``s < t`` (``s = -1``: clean data); ``x0_probs``
        may be a one-hot ``x0`` or predicted probabilities. Continuous columns: meaningless."""
        ab_t, ab_s = self.schedule.alpha_bar(t)[:, None], self.schedule.alpha_bar(s)[:, None]
        a_ts, k = ab_t / ab_s, self.layout.block_width
        unnorm = (a_ts * x_t + (1 - a_ts) / k) * (ab_s * x0_probs + (1 - ab_s) / k)
        return unnorm / self.layout._per_block(unnorm, jax.ops.segment_sum)

    def loss(self, model, batch, rng):
        x0 = batch["x"]
        n, lay = x0.shape[0], self.layout
        k_t, k_noise, k_reveal = jax.random.split(rng, 3)
        t = jax.random.randint(k_t, (n,), 0, self.schedule.num_timesteps)
        x_t, eps = self._noisy(x0, t, k_noise)
        cond = lay.cond_of(x0, lay.random_reveal(k_reveal, n))
        out = model(x_t, t, cond)
        metrics, loss = {}, 0.0
        if lay.continuous:
            sq = jnp.where(self._is_cont, (out - eps) ** 2, 0.0)
            mse = jnp.sum(sq) / (n * len(lay.continuous))
            metrics["gaussian_loss"], loss = mse, loss + mse
        if lay.blocks:
            true = self._posterior(x_t, x0, t, t - 1)
            log_pred = jnp.log(jnp.clip(self._posterior(x_t, lay.block_softmax(out), t, t - 1), 1e-30))
            kl = lay.block_totals(jnp.where(lay.in_block, true * (jnp.log(jnp.clip(true, 1e-30))
                                                                  - log_pred), 0.0))
            nll = -lay.block_totals(jnp.where(lay.in_block, x0 * log_pred, 0.0))  # t = 0 term
            mkl = jnp.mean(jnp.where(t[:, None] == 0, nll, kl))
            metrics["multinomial_loss"], loss = mkl, loss + mkl
        return loss, {"loss": loss, **metrics}

    def sample(self, model, cond: jax.Array, key: jax.Array, *, steps: int | None = None) -> jax.Array:
        """Rows ``[B, width]`` by ancestral sampling over ``steps`` evenly spaced timesteps (all
        ``T`` by default), as a ``lax.scan``; conditioned blocks are held at ``cond``. Between
        timesteps ``t > s`` both parts use the exact posterior ``q(x_s | x_t, x0_hat)``."""
        T = self.schedule.num_timesteps
        steps = T if steps is None else int(min(steps, T))
        ts = np.unique(np.linspace(0, T - 1, steps).round().astype(np.int32))[::-1]
        prev = np.concatenate([ts[1:], [-1]]).astype(np.int32)
        n, lay = cond.shape[0], self.layout
        k_init, k_cat, k_loop = jax.random.split(key, 3)
        uniform = lay.block_sample(jnp.zeros((n, lay.width)), k_cat)
        x = lay.clamp(jnp.where(self._is_cont, jax.random.normal(k_init, (n, lay.width)), uniform), cond)

        def step(x, inputs):
            t_, s_, k = inputs
            t, s = jnp.full((n,), t_), jnp.full((n,), s_)
            out = model(x, t, cond)
            k_g, k_c = jax.random.split(k)
            ab_t, ab_s = self.schedule.alpha_bar(t)[:, None], self.schedule.alpha_bar(s)[:, None]
            x0 = jnp.clip((x - jnp.sqrt(1 - ab_t) * out) / jnp.sqrt(ab_t), -6.0, 6.0)
            a_ts = ab_t / ab_s
            var = (1 - a_ts) * (1 - ab_s) / (1 - ab_t)
            mean = (jnp.sqrt(ab_s) * (1 - a_ts) * x0 + jnp.sqrt(a_ts) * (1 - ab_s) * x) / (1 - ab_t)
            gauss = mean + jnp.where(s[:, None] >= 0, jnp.sqrt(var), 0.0) * jax.random.normal(
                k_g, x.shape)
            probs = self._posterior(x, lay.block_softmax(out), t, s)
            cats = lay.block_sample(jnp.log(jnp.clip(probs, 1e-30)), k_c)
            return lay.clamp(jnp.where(self._is_cont, gauss, cats), cond), None

        keys = jax.random.split(k_loop, len(ts))
        x, _ = jax.lax.scan(step, x, (jnp.asarray(ts), jnp.asarray(prev), keys))
        return x
