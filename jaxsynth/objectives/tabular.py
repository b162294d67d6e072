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

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth.diffusion.schedules import NoiseSchedule

Block = tuple[int, int]  # (start, width) of a one-hot block in x


@dataclasses.dataclass(frozen=True)
class TableLayout:
    """Static description of encoded rows. ``continuous``: indices of real-valued columns;
    ``blocks``: every one-hot block; ``cond_blocks``: the blocks of categorical columns (a
    subset of ``blocks``), which make up the condition vector in order; ``bounded``: continuous
    values live in ``[-1, 1]`` (mode-specific normalisation) rather than on the real line."""

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
        return cls(encoder.width, cont, blocks, cond, encoder.numerical == "gmm")

    @property
    def cond_width(self) -> int:
        return sum(w for _, w in self.cond_blocks)

    def cond_of(self, x: jax.Array, reveal: jax.Array) -> jax.Array:
        """``cond: [B, cond_width]`` from rows ``x`` with block ``j`` kept where ``reveal[:, j]``."""
        if not self.cond_blocks:
            return jnp.zeros((x.shape[0], 0), x.dtype)
        parts = [x[:, s:s + w] * reveal[:, j:j + 1] for j, (s, w) in enumerate(self.cond_blocks)]
        return jnp.concatenate(parts, axis=-1)

    def random_reveal(self, key: jax.Array, batch: int) -> jax.Array:
        """``[B, n_cond_blocks]`` 0/1: half the rows reveal nothing, the rest each block w.p. 1/2."""
        k1, k2 = jax.random.split(key)
        any_ = jax.random.bernoulli(k1, 0.5, (batch, 1))
        each = jax.random.bernoulli(k2, 0.5, (batch, len(self.cond_blocks)))
        return (any_ & each).astype(jnp.float32)

    def clamp(self, x: jax.Array, cond: jax.Array) -> jax.Array:
        """Overwrite the conditioned one-hot blocks of ``x`` with ``cond`` where it is set."""
        offset = 0
        for s, w in self.cond_blocks:
            c = cond[:, offset:offset + w]
            on = c.sum(-1, keepdims=True) > 0
            x = x.at[:, s:s + w].set(jnp.where(on, c, x[:, s:s + w]))
            offset += w
        return x


def _activate(layout: TableLayout, raw: jax.Array, key: jax.Array | None, tau: float) -> jax.Array:
    """CTGAN's output activations: tanh for continuous values, Gumbel-softmax (``key`` given) or
    softmax for one-hot blocks."""
    out = raw
    if layout.continuous:
        idx = jnp.array(layout.continuous)
        out = out.at[:, idx].set(jnp.tanh(raw[:, idx]))
    keys = jax.random.split(key, max(len(layout.blocks), 1)) if key is not None else None
    for j, (s, w) in enumerate(layout.blocks):
        logits = raw[:, s:s + w]
        if keys is not None:
            logits = logits - jnp.log(-jnp.log(jax.random.uniform(keys[j], logits.shape,
                                                                   minval=1e-10, maxval=1.0)))
        out = out.at[:, s:s + w].set(jax.nn.softmax(logits / tau, axis=-1))
    return out


def _one_hot_sample(layout: TableLayout, logits_rows: jax.Array, key: jax.Array) -> jax.Array:
    """Replace each one-hot block of ``logits_rows`` by a one-hot draw from its softmax."""
    keys = jax.random.split(key, max(len(layout.blocks), 1))
    out = logits_rows
    for j, (s, w) in enumerate(layout.blocks):
        idx = jax.random.categorical(keys[j], logits_rows[:, s:s + w], axis=-1)
        out = out.at[:, s:s + w].set(jax.nn.one_hot(idx, w, dtype=out.dtype))
    return out


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
        freq_p = np.full((len(blocks), max_k), -np.inf, np.float32)
        order, starts, counts, offsets = [], [], [], []
        offset = 0
        for j, (s, w) in enumerate(blocks):
            cats = x[:, s:s + w].argmax(1)
            count = np.bincount(cats, minlength=w)
            log_p[j, :w] = np.log(np.log1p(count) / np.log1p(count).sum())
            with np.errstate(divide="ignore"):
                freq_p[j, :w] = np.log(count / n)
            rows = np.argsort(cats, kind="stable")
            starts.append(j * n + np.concatenate([[0], np.cumsum(count)[:-1]]))
            counts.append(count)
            order.append(rows)
            offsets.append(offset)
            offset += w
        self.log_p, self.freq_p = jnp.asarray(log_p), jnp.asarray(freq_p)
        self.order = jnp.asarray(np.concatenate(order), jnp.int32)
        self.starts = jnp.asarray(np.concatenate(starts), jnp.int32)
        self.counts = jnp.asarray(np.concatenate(counts), jnp.int32)
        self.offsets = jnp.asarray(offsets, jnp.int32)

    _ARRAYS = ("log_p", "freq_p", "order", "starts", "counts", "offsets")

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

    def sample(self, key: jax.Array, batch: int, *, original: bool = False):
        """``(cond: [B, cond_width], rows: [B] int32)``; ``original`` draws categories by their
        data frequency instead of the log-frequency (CTGAN's choice when generating)."""
        k_col, k_cat, k_row = jax.random.split(key, 3)
        if not self.layout.cond_blocks:
            return (jnp.zeros((batch, 0)), jax.random.randint(k_row, (batch,), 0, self.n))
        col = jax.random.randint(k_col, (batch,), 0, len(self.layout.cond_blocks))
        table = self.freq_p if original else self.log_p
        cat = jax.random.categorical(k_cat, table[col], axis=-1)
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
        """``mean((||grad_x critic(x_hat)|| - 1)^2)`` at ``x_hat`` between real and fake packs;
        the norm is over each pack of ``pac`` rows (Gulrajani et al., 2017; CTGAN's variant)."""
        pac = critic.pac
        k_mix, k_drop = jax.random.split(key)
        alpha = jnp.repeat(jax.random.uniform(k_mix, (real.shape[0] // pac, 1)), pac, axis=0)
        x_hat = alpha * real + (1.0 - alpha) * fake
        grads = jax.grad(lambda x: critic(x, k_drop).sum())(x_hat)
        norms = jnp.sqrt(jnp.sum(grads.reshape(-1, pac * real.shape[1]) ** 2, axis=1) + 1e-12)
        return jnp.mean((norms - 1.0) ** 2)


def _condition_cross_entropy(layout: TableLayout, raw: jax.Array, cond: jax.Array) -> jax.Array:
    """Mean over rows of the cross-entropy of the conditioned block's logits with its category."""
    total = jnp.zeros(raw.shape[0])
    offset = 0
    for s, w in layout.cond_blocks:
        c = cond[:, offset:offset + w]
        total = total - jnp.sum(c * jax.nn.log_softmax(raw[:, s:s + w], -1), -1)
        offset += w
    return jnp.mean(total)


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
        idx = jnp.array(self.layout.continuous)
        return out.at[:, idx].set(jnp.tanh(out[:, idx]))

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
        for s, w in self.layout.blocks:
            rec -= jnp.sum(x[:, s:s + w] * jax.nn.log_softmax(out[:, s:s + w], -1), -1)
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
        return self.layout.clamp(_one_hot_sample(self.layout, out, k_cat), cond)


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

    def _noisy(self, x0, t, key):
        k_g, k_c = jax.random.split(key)
        ab = self.schedule.alpha_bar(t)[:, None]
        x_t, eps = x0, jnp.zeros_like(x0)
        if self.layout.continuous:
            idx = jnp.array(self.layout.continuous)
            eps = eps.at[:, idx].set(jax.random.normal(k_g, (x0.shape[0], len(idx))))
            x_t = x_t.at[:, idx].set(jnp.sqrt(ab) * x0[:, idx] + jnp.sqrt(1 - ab) * eps[:, idx])
        keys = jax.random.split(k_c, max(len(self.layout.blocks), 1))
        for j, (s, w) in enumerate(self.layout.blocks):
            probs = ab * x0[:, s:s + w] + (1 - ab) / w
            draw = jax.random.categorical(keys[j], jnp.log(probs), axis=-1)
            x_t = x_t.at[:, s:s + w].set(jax.nn.one_hot(draw, w))
        return x_t, eps

    def _posterior(self, x_t, x0_probs, t, s, w):
        """``q(x_s | x_t, x0)`` for a block of width ``w``, ``s < t`` (``s = -1``: clean data)."""
        ab_t, ab_s = self.schedule.alpha_bar(t)[:, None], self.schedule.alpha_bar(s)[:, None]
        a_ts = ab_t / ab_s
        unnorm = (a_ts * x_t + (1 - a_ts) / w) * (ab_s * x0_probs + (1 - ab_s) / w)
        return unnorm / unnorm.sum(-1, keepdims=True)

    def loss(self, model, batch, rng):
        x0 = batch["x"]
        n = x0.shape[0]
        k_t, k_noise, k_reveal = jax.random.split(rng, 3)
        t = jax.random.randint(k_t, (n,), 0, self.schedule.num_timesteps)
        x_t, eps = self._noisy(x0, t, k_noise)
        cond = self.layout.cond_of(x0, self.layout.random_reveal(k_reveal, n))
        out = model(x_t, t, cond)
        metrics, loss = {}, 0.0
        if self.layout.continuous:
            idx = jnp.array(self.layout.continuous)
            mse = jnp.mean((out[:, idx] - eps[:, idx]) ** 2)
            metrics["gaussian_loss"], loss = mse, loss + mse
        if self.layout.blocks:
            kls = []
            for s, w in self.layout.blocks:
                true = self._posterior(x_t[:, s:s + w], x0[:, s:s + w], t, t - 1, w)
                pred = self._posterior(x_t[:, s:s + w], jax.nn.softmax(out[:, s:s + w], -1), t, t - 1, w)
                log_pred = jnp.log(jnp.clip(pred, 1e-30))
                kl = jnp.sum(true * (jnp.log(jnp.clip(true, 1e-30)) - log_pred), -1)
                nll = -jnp.sum(x0[:, s:s + w] * log_pred, -1)  # decoder term at t = 0
                kls.append(jnp.where(t == 0, nll, kl))
            mkl = jnp.mean(jnp.stack(kls))
            metrics["multinomial_loss"], loss = mkl, loss + mkl
        return loss, {"loss": loss, **metrics}

    def sample(self, model, cond: jax.Array, key: jax.Array, *, steps: int | None = None) -> jax.Array:
        """Rows ``[B, width]`` by ancestral sampling over ``steps`` evenly spaced timesteps (all
        ``T`` by default), as a ``lax.scan``; conditioned blocks are held at ``cond``."""
        T = self.schedule.num_timesteps
        steps = T if steps is None else int(min(steps, T))
        ts = np.unique(np.linspace(0, T - 1, steps).round().astype(np.int32))[::-1]
        prev = np.concatenate([ts[1:], [-1]]).astype(np.int32)
        n, lay = cond.shape[0], self.layout
        k_init, k_loop = jax.random.split(key)
        x = _one_hot_sample(lay, jnp.zeros((n, lay.width)), k_init)  # uniform blocks
        if lay.continuous:
            idx = jnp.array(lay.continuous)
            x = x.at[:, idx].set(jax.random.normal(k_init, (n, len(idx))))
        x = lay.clamp(x, cond)

        def step(x, inputs):
            t_, s_, k = inputs
            t, s = jnp.full((n,), t_), jnp.full((n,), s_)
            out = model(x, t, cond)
            k_g, k_c = jax.random.split(k)
            new = x
            if lay.continuous:
                idx = jnp.array(lay.continuous)
                ab_t, ab_s = self.schedule.alpha_bar(t)[:, None], self.schedule.alpha_bar(s)[:, None]
                x0 = (x[:, idx] - jnp.sqrt(1 - ab_t) * out[:, idx]) / jnp.sqrt(ab_t)
                x0 = jnp.clip(x0, -6.0, 6.0)
                a_ts = ab_t / ab_s
                var = (1 - a_ts) * (1 - ab_s) / (1 - ab_t)
                mean = (jnp.sqrt(ab_s) * (1 - a_ts) * x0
                        + jnp.sqrt(a_ts) * (1 - ab_s) * x[:, idx]) / (1 - ab_t)
                noise = jax.random.normal(k_g, mean.shape)
                new = new.at[:, idx].set(mean + jnp.where(s[:, None] >= 0, jnp.sqrt(var), 0.0) * noise)
            keys = jax.random.split(k_c, max(len(lay.blocks), 1))
            for j, (st, w) in enumerate(lay.blocks):
                probs = self._posterior(x[:, st:st + w], jax.nn.softmax(out[:, st:st + w], -1), t, s, w)
                draw = jax.random.categorical(keys[j], jnp.log(jnp.clip(probs, 1e-30)), axis=-1)
                new = new.at[:, st:st + w].set(jax.nn.one_hot(draw, w))
            return lay.clamp(new, cond), None

        keys = jax.random.split(k_loop, len(ts))
        x, _ = jax.lax.scan(step, x, (jnp.asarray(ts), jnp.asarray(prev), keys))
        return x
