"""``TabularSynthesizer``: CTGAN, TVAE or TabDDPM behind a pandas API.

>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"size": rng.normal(size=64), "kind": rng.choice(["a", "b"], 64)})
>>> synth = TabularSynthesizer("tvae", epochs=2, batch_size=32, progress=False).fit(df)
>>> rows = synth.sample(10, conditions={"kind": "b"})
>>> rows.shape, set(rows["kind"])
((10, 2), {'b'})
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
from flax import nnx

from jaxsynth.data.pipeline import MASK_KEY
from jaxsynth.data.table_encoder import TableEncoder, validate_frame
from jaxsynth.diffusion.schedules import make_schedule
from jaxsynth.models.tabular import CTGAN, TVAE, TabDenoiser
from jaxsynth.objectives.tabular import (
    ConditionSampler,
    CTGANObjective,
    TabDDPMObjective,
    TableLayout,
    TVAEObjective,
)
from jaxsynth.train.experiment import FAST_COMPILE
from jaxsynth.train.game import init_game_state, make_game_update, split_players
from jaxsynth.train.sharding import data_sharded, make_mesh, replicated
from jaxsynth.train.state import init_state, split_model
from jaxsynth.train.step import make_update
from jaxsynth.utils.arrays import pad_rows

FORMAT_VERSION = 1
AUTO_UPDATES = 2000  # updates a fit makes when its model's default epochs is None
MODEL_NAMES = ("ctgan", "tvae", "tabddpm")

# Per model: training settings and network settings (overridable by keyword).
DEFAULTS: dict[str, dict[str, Any]] = {
    "ctgan": {"epochs": 300, "batch_size": 500, "learning_rate": 2e-4, "numerical": "gmm",
              "network": {"noise_dim": 128, "generator_hidden": (256, 256),
                          "discriminator_hidden": (256, 256), "pac": 10},
              "objective": {"discriminator_steps": 1, "gp_weight": 10.0}},
    "tvae": {"epochs": 300, "batch_size": 500, "learning_rate": 1e-3, "numerical": "gmm",
             "network": {"latent": 128, "hidden": (128, 128)}, "objective": {"loss_factor": 2.0}},
    # epochs None: as many as make about 2,000 updates (small tables take many short epochs).
    "tabddpm": {"epochs": None, "batch_size": 1024, "learning_rate": 2e-3, "numerical": "quantile",
                "network": {"hidden": (256, 256, 256), "time_dim": 128},
                "objective": {"timesteps": 1000, "schedule": "cosine", "sample_steps": 100}},
}


class TabularSynthesizer:
    """Fit a generative model to a DataFrame and sample new rows with the same columns and dtypes.

    Args:
      model: ``"ctgan"``, ``"tvae"`` or ``"tabddpm"``.
      seed: the one seed of a fit; the same seed and data give identical samples.
      epochs, batch_size, learning_rate: training settings (defaults per model in ``DEFAULTS``;
        ``tabddpm``'s default epochs are as many as make about 2,000 updates).
      metadata: ``{column: kind}`` overriding detected kinds (see :class:`TableEncoder`).
      progress: show a progress bar with per-epoch losses.
      mesh: a ``jax.sharding.Mesh`` with a ``data`` axis (default: all devices); the batch is
        sharded over it, so ``batch_size`` must divide evenly across its devices.
      epsilon, delta: train with DP-SGD to this ``(epsilon, delta)`` budget (``tvae`` and
        ``tabddpm``): Poisson-sampled batches at rate ``batch_size / rows``, per-example
        gradients clipped to ``l2_clip_norm``, Gaussian noise calibrated by the RDP accountant
        over all ``epochs``. ``delta`` defaults to ``1 / (10 * rows)``. The encoder then reads
        nothing from the data: ``metadata`` must give every column's kind and public ``min``/
        ``max`` or ``categories`` (see :class:`TableEncoder`, ``public=True``), else
        ``ValueError`` names what is missing. ``privacy_report`` holds the guarantee.
      noise_multiplier: set the DP noise directly instead of calibrating it to ``epsilon``.
      l2_clip_norm: the per-example clipping bound under DP.
      **settings: network and objective settings, e.g. ``hidden=(256, 256)``, ``pac=10``,
        ``sample_steps=50``; unknown names raise ``ValueError``.
    """

    def __init__(self, model: str = "tabddpm", *, seed: int = 0, epochs: int | None = None,
                 batch_size: int | None = None, learning_rate: float | None = None,
                 metadata: dict[str, Any] | None = None, progress: bool = True, mesh=None,
                 epsilon: float | None = None, delta: float | None = None,
                 noise_multiplier: float | None = None, l2_clip_norm: float = 1.0,
                 **settings: Any):
        if model not in MODEL_NAMES:
            raise ValueError(f"model={model!r}; choose one of {MODEL_NAMES}")
        d = DEFAULTS[model]
        known = set(d["network"]) | set(d["objective"])
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ValueError(f"{model} has no setting(s) {unknown}; known: {sorted(known)}")
        self.model_name, self.seed, self.progress = model, int(seed), progress
        epochs = epochs if epochs is not None else d["epochs"]
        self.epochs = None if epochs is None else int(epochs)
        self.batch_size = int(batch_size if batch_size is not None else d["batch_size"])
        self.learning_rate = float(learning_rate if learning_rate is not None else d["learning_rate"])
        if (self.epochs or 1) < 1 or self.batch_size < 1 or self.learning_rate <= 0:
            raise ValueError(f"epochs, batch_size and learning_rate must be positive; got "
                             f"{self.epochs}, {self.batch_size}, {self.learning_rate}")
        self.network = {**d["network"], **{k: v for k, v in settings.items() if k in d["network"]}}
        self.objective_settings = {**d["objective"],
                                   **{k: v for k, v in settings.items() if k in d["objective"]}}
        self.metadata = dict(metadata or {})
        self.mesh = mesh
        self.private = epsilon is not None or noise_multiplier is not None
        if self.private and model == "ctgan":
            # DP-CTGAN clips per example; a PacGAN critic scores packs of rows together, and a
            # pack is not a unit one record's presence bounds, so packing is off.
            if int(settings.get("pac", 1)) != 1:
                raise ValueError(f"pac={settings['pac']}: under differential privacy CTGAN's critic "
                                 "must score single rows (pac=1) so each record's gradient can be "
                                 "clipped on its own; drop pac")
            self.network["pac"] = 1
            if int(self.objective_settings["discriminator_steps"]) != 1:
                raise ValueError("discriminator_steps must be 1 under differential privacy (each "
                                 "private critic update is one accounted step)")
        if epsilon is not None and not epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {epsilon}")
        if delta is not None and not 0 < delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        if not l2_clip_norm > 0:
            raise ValueError(f"l2_clip_norm must be > 0, got {l2_clip_norm}")
        self.epsilon, self.delta = epsilon, delta
        self.noise_multiplier, self.l2_clip_norm = noise_multiplier, float(l2_clip_norm)
        self.privacy_report: dict[str, Any] | None = None
        self.encoder: TableEncoder | None = None
        self.history: list[dict[str, float]] = []

    # ------------------------------------------------------------------ build
    def _network(self, layout: TableLayout, rngs: nnx.Rngs):
        net = self.network
        if self.model_name == "ctgan":
            return CTGAN(layout.width, layout.cond_width, rngs=rngs, **net)
        if self.model_name == "tvae":
            return TVAE(layout.width, layout.cond_width, rngs=rngs, **net)
        return TabDenoiser(layout.width, layout.cond_width, rngs=rngs, **net)

    def _objective(self, layout: TableLayout):
        obj = self.objective_settings
        if self.model_name == "ctgan":
            return CTGANObjective(layout, noise_dim=self.network["noise_dim"],
                                  public_conditions=self.private, **obj)
        if self.model_name == "tvae":
            return TVAEObjective(layout, **obj)
        return TabDDPMObjective(layout, make_schedule(obj["schedule"], obj["timesteps"]))

    def _split(self, model):
        if self.model_name == "ctgan":
            return split_players(model, tuple(p for p, _ in self.objective.players))
        return split_model(model)

    def _init_state(self, layout: TableLayout, mesh):
        """``(abstract model, state)``: the initial training state, built by a jitted initialiser
        compiled without XLA's expensive passes (it runs once; eager init costs seconds of
        per-op compiles on CPU). The seed is an argument, so every seed shares one program."""
        abstract = nnx.eval_shape(lambda: self._network(layout, nnx.Rngs(0)))

        def create(key):
            graphdefs, params, rest = self._split(self._network(layout, nnx.Rngs(key)))
            if self.model_name == "ctgan":
                return init_game_state(params, rest, {p: self._optimizer() for p in params})
            return init_state(params, rest, self._optimizer())

        lowered = jax.jit(create, out_shardings=replicated(mesh)).lower(jax.random.key(self.seed))
        return abstract, lowered.compile(compiler_options=FAST_COMPILE)(jax.random.key(self.seed))

    def _optimizer(self):
        if self.model_name == "ctgan":
            return optax.adamw(self.learning_rate, b1=0.5, b2=0.9, weight_decay=1e-6)
        return optax.chain(optax.clip_by_global_norm(1.0),
                           optax.adamw(self.learning_rate, weight_decay=1e-5))

    # -------------------------------------------------------------------- fit
    def fit(self, df: pd.DataFrame) -> TabularSynthesizer:
        """Train on ``df``; per-epoch mean losses land in ``self.history``."""
        validate_frame(df)
        mesh = self.mesh or make_mesh()
        n_dev = mesh.devices.size
        batch = min(self.batch_size, len(df))
        multiple = n_dev * (self.network["pac"] if self.model_name == "ctgan" else 1)
        batch = max(multiple, batch - batch % multiple)
        if batch > len(df):
            raise ValueError(f"{self.model_name} needs at least {batch} rows (a batch divisible by "
                             f"{multiple}); the frame has {len(df)}")
        self.encoder = TableEncoder(self.metadata, numerical=DEFAULTS[self.model_name]["numerical"],
                                    public=self.private, seed=self.seed).fit(df)
        x = self.encoder.transform(df)
        self.layout = TableLayout.from_encoder(self.encoder)
        # Category counts drive CTGAN's unconditional sampling (never read from data under DP:
        # uniform there).
        self._counts = ([(np.ones(w, np.int64) if self.private
                          else np.bincount(x[:, s:s + w].argmax(1), minlength=w)).tolist()
                         for s, w in self.layout.cond_blocks] if self.model_name == "ctgan" else [])
        self.objective = self._objective(self.layout)
        model, state = self._init_state(self.layout, mesh)
        steps = max(1, len(df) // batch)
        epochs = self.epochs or max(1, math.ceil(AUTO_UPDATES / steps))
        self.epochs_run = epochs  # what the fit ran (tabddpm's default is chosen here)
        data = jax.device_put(jnp.asarray(x), replicated(mesh))
        batch_sharding = data_sharded(mesh)

        # The data (and CTGAN's sampling tables) and the root key are arguments of the jitted
        # epoch, not constants inside it: the program stays small and compiles once per shape.
        if self.model_name == "ctgan" and self.private:
            # DP-CTGAN: Poisson rows, each conditioned on its own category of a random column;
            # DP-SGD on the critic only (the generator draws public conditions).
            graphdefs, _, _ = self._split(model)
            optimizers = {p: self._optimizer() for p in graphdefs}
            inputs = {"data": data}
            dp, padded = self._plan_privacy(len(df), batch, steps, epochs, n_dev)
            layout = self.layout

            def make(root):
                return make_game_update(graphdefs, self.objective, optimizers, root_key=root,
                                        privacy=dp)

            def batches(key, inputs):
                return jax.random.split(key, steps)

            def gather(k, inputs):
                k_rows, k_cond = jax.random.split(k)
                b = poisson_rows(k_rows, inputs["data"], batch, padded)
                return {**b, "cond": layout.own_condition(b["x"], k_cond)}
        elif self.model_name == "ctgan":
            graphdefs, _, _ = self._split(model)
            optimizers = {p: self._optimizer() for p in graphdefs}
            inputs = {"data": data, "sampler": ConditionSampler(x, self.layout)}

            def make(root):
                return make_game_update(graphdefs, self.objective, optimizers, root_key=root)

            def batches(key, inputs):
                return jax.random.split(key, steps)

            def gather(k, inputs):
                cond, rows = inputs["sampler"].sample(k, batch)
                return {"x": inputs["data"][rows], "cond": cond}
        elif self.private:
            graphdef, _, _ = self._split(model)
            optimizer = self._optimizer()
            inputs = {"data": data}
            dp, padded = self._plan_privacy(len(df), batch, steps, epochs, n_dev)

            def make(root):
                return make_update(graphdef, self.objective, optimizer, root_key=root, privacy=dp)

            def batches(key, inputs):
                return jax.random.split(key, steps)

            def gather(k, inputs):
                return poisson_rows(k, inputs["data"], batch, padded)
        else:
            graphdef, _, _ = self._split(model)
            optimizer = self._optimizer()
            inputs = {"data": data}

            def make(root):
                return make_update(graphdef, self.objective, optimizer, root_key=root)

            def batches(key, inputs):
                n = inputs["data"].shape[0]
                return jax.random.permutation(key, n)[: steps * batch].reshape(steps, batch)

            def gather(idx, inputs):
                return {"x": inputs["data"][idx]}

        def epoch(state, key, inputs):
            update = make(inputs["root"])

            def body(state, xs):
                b = jax.lax.with_sharding_constraint(gather(xs, inputs), batch_sharding)
                return update(state, b)
            state, metrics = jax.lax.scan(body, state, batches(key, inputs))
            return state, jax.tree.map(lambda m: m.astype(jnp.float32).mean(), metrics)

        inputs["root"] = jax.random.key(self.seed)
        start = time.perf_counter()
        epoch = jax.jit(epoch, donate_argnums=(0,)).lower(state, inputs["root"], inputs).compile()
        self.compile_seconds = time.perf_counter() - start
        self.history = []
        bar = _progress(epochs, f"fit {self.model_name}", self.progress)
        start = time.perf_counter()
        for e in range(epochs):
            state, metrics = epoch(state, jax.random.fold_in(jax.random.key(self.seed + 1), e), inputs)
            metrics = {k: float(v) for k, v in metrics.items()}
            if metrics.pop("nonfinite") > 0:
                raise FloatingPointError(
                    f"{self.model_name} produced a non-finite loss in epoch {e}; lower "
                    f"learning_rate (now {self.learning_rate}) or check the data for extreme values")
            self.history.append({"epoch": e, **metrics})
            if bar is not None:
                bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items() if "norm" not in k})
                bar.update(1)
        if bar is not None:
            bar.close()
        self.fit_seconds = time.perf_counter() - start
        self._model = model
        self._set_params(state.ema_params, state.model_state)
        return self

    def _plan_privacy(self, rows: int, batch: int, steps: int, epochs: int, n_dev: int):
        """``(DPSGD settings, padded batch size)``; fills ``privacy_report``."""
        from jaxsynth.data.pipeline import poisson_padded_size
        from jaxsynth.privacy import DPSGD, epsilon, noise_multiplier_for
        q, total = batch / rows, steps * epochs
        delta = self.delta if self.delta is not None else 1.0 / (10 * rows)
        sigma = self.noise_multiplier
        if sigma is None:
            sigma = noise_multiplier_for(target_epsilon=self.epsilon, delta=delta, sampling_rate=q,
                                         steps=total, accountant="rdp")
        spent = epsilon(noise_multiplier=sigma, sampling_rate=q, steps=total, delta=delta,
                        accountant="rdp")
        self.privacy_report = {"epsilon": spent, "delta": delta, "noise_multiplier": sigma,
                               "l2_clip_norm": self.l2_clip_norm, "sampling_rate": q,
                               "steps": total, "accountant": "rdp", "target_epsilon": self.epsilon}
        dp = DPSGD(l2_clip_norm=self.l2_clip_norm, noise_multiplier=sigma, expected_batch_size=batch)
        return dp, poisson_padded_size(rows, q, multiple_of=n_dev)

    def _set_params(self, params, model_state) -> None:
        self._params, self._model_state = jax.device_get(params), jax.device_get(model_state)
        self._sample_fns: dict[tuple, Any] = {}

    # ----------------------------------------------------------------- sample
    def _require_fit(self):
        if self.encoder is None:
            raise ValueError("this TabularSynthesizer is not fitted; call fit(df) or load(path)")

    def condition_vector(self, conditions: dict[str, Any] | None) -> np.ndarray:
        """``[cond_width]`` float32: the one-hot blocks of ``conditions`` (categorical columns)."""
        self._require_fit()
        cond = np.zeros(self.layout.cond_width, np.float32)
        if not conditions:
            return cond
        if not isinstance(conditions, dict):
            raise ValueError(f"conditions must be a dict {{column: value}}, got {type(conditions).__name__}")
        discrete = self.encoder.discrete_columns
        if self.model_name == "ctgan" and len(conditions) > 1:
            raise ValueError(f"ctgan conditions on one categorical column at a time, got "
                             f"{sorted(conditions)}; use tvae or tabddpm for several")
        offsets = np.cumsum([0] + [w for _, w in self.layout.cond_blocks])
        for column, value in conditions.items():
            self.encoder.column(column)  # unknown column -> ValueError naming the columns
            if column not in discrete:
                raise ValueError(f"condition on column {column!r}: only categorical and boolean "
                                 f"columns can be conditioned on ({discrete})")
            j = discrete.index(column)
            cond[offsets[j] + self.encoder.category_index(column, value)] = 1.0
        return cond

    def category_from_text(self, column: str, text: str) -> Any:
        """The category of ``column`` whose text form is ``text`` (for command-line conditions)."""
        self._require_fit()
        col = self.encoder.column(column)
        for c in col.get("categories", []):
            if c is not None and str(c) == text:
                return c
        if "categories" not in col:
            raise ValueError(f"condition on column {column!r}: only categorical and boolean "
                             f"columns can be conditioned on ({self.encoder.discrete_columns})")
        raise ValueError(f"column {column!r} has no category {text!r}; seen in fit: "
                         f"{[str(c) for c in col['categories'] if c is not None][:20]}")

    def _sample_fn(self, chunk: int, conditional: bool):
        key_ = (chunk, conditional)
        if key_ not in self._sample_fns:
            objective, layout = self.objective, self.layout
            counts = self._counts

            def fn(params, model_state, cond, key):
                k_cond, k = jax.random.split(key)
                if self.model_name == "ctgan":
                    g = nnx.merge(self._graphdefs["generator"], params["generator"],
                                  model_state["generator"])
                    if not conditional:
                        cond = _frequency_cond(k_cond, chunk, counts, layout.cond_width)
                    return layout.clamp(objective.generate(g, cond, k)[1], cond)
                model = nnx.merge(self._graphdefs, params, model_state)
                if self.model_name == "tvae":
                    return objective.sample(model, cond, k)
                return objective.sample(model, cond, k,
                                        steps=self.objective_settings["sample_steps"])

            self._sample_fns[key_] = jax.jit(fn)
        return self._sample_fns[key_]

    @property
    def _graphdefs(self):
        if self.model_name == "ctgan":
            return {p: nnx.graphdef(getattr(self._model, p)) for p in ("generator", "discriminator")}
        return nnx.graphdef(self._model)

    def sample_encoded(self, n: int, conditions: dict[str, Any] | None = None, *, seed: int = 0,
                       chunk_size: int = 8192) -> np.ndarray:
        """``[n, width]`` encoded rows; generated in chunks of ``chunk_size`` (one compile)."""
        self._require_fit()
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"n must be a non-negative integer, got {n!r}")
        cond = self.condition_vector(conditions)
        chunk = int(min(chunk_size, max(n, 1)))
        fn = self._sample_fn(chunk, bool(conditions))
        cond_b = jnp.broadcast_to(jnp.asarray(cond), (chunk, cond.size))
        key = jax.random.fold_in(jax.random.key(self.seed + 2), seed)
        out = [np.asarray(fn(self._params, self._model_state, cond_b, jax.random.fold_in(key, i)))
               for i in range(math.ceil(n / chunk))]
        return np.concatenate(out)[:n] if out else np.zeros((0, self.layout.width), np.float32)

    def sample(self, n: int, conditions: dict[str, Any] | None = None, *, seed: int = 0,
               chunk_size: int = 8192) -> pd.DataFrame:
        """``n`` new rows as a DataFrame with the training columns and dtypes.

        ``conditions={"column": value, ...}`` fixes categorical/boolean columns; the model is
        conditioned on them natively (no rejection), so every row satisfies them. ``seed`` picks
        a different draw from the same fitted model.
        """
        self._require_fit()
        return self.encoder.inverse_transform(
            self.sample_encoded(n, conditions, seed=seed, chunk_size=chunk_size))

    def example_losses(self, df: pd.DataFrame, *, draws: int = 16, seed: int = 0,
                       chunk_size: int = 1024) -> np.ndarray:
        """``[len(df)]`` each row's training loss under the fitted model (TVAE: the negative
        ELBO; TabDDPM: the diffusion loss at a random timestep), averaged over ``draws`` random
        evaluations. Lower means the model fits the row better: the membership signal of
        :func:`jaxsynth.privacy.audit.audit_tabular`."""
        self._require_fit()
        if self.model_name == "ctgan":
            raise ValueError("example_losses needs a likelihood-style loss (tvae or tabddpm); a "
                             "CTGAN's critic score is not one")
        if draws < 1:
            raise ValueError(f"draws must be at least 1, got {draws}")
        x = self.encoder.transform(df)
        objective, graphdef = self.objective, self._graphdefs

        @jax.jit
        def losses(params, model_state, rows, keys):
            model = nnx.merge(graphdef, params, model_state)

            def one(row, key):
                return objective.loss(model, {"x": row[None]}, key)[0]

            return jax.vmap(lambda k: jax.vmap(one)(rows, jax.random.split(k, rows.shape[0])))(keys).mean(0)

        keys = jax.random.split(jax.random.key(seed), draws)
        chunk = int(min(chunk_size, max(len(x), 1)))
        out = []
        for start in range(0, len(x), chunk):
            rows = x[start:start + chunk]
            n = len(rows)
            rows = pad_rows(rows, chunk)
            out.append(np.asarray(losses(self._params, self._model_state, jnp.asarray(rows), keys))[:n])
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    # ----------------------------------------------------------- save / load
    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted synthesizer to directory ``path`` (JSON settings + orbax params)."""
        import orbax.checkpoint as ocp
        self._require_fit()
        path = Path(path).absolute()
        path.mkdir(parents=True, exist_ok=True)
        from jaxsynth import __version__
        meta = {"format_version": FORMAT_VERSION, "jaxsynth_version": __version__,
                "model": self.model_name, "seed": self.seed, "epochs": self.epochs,
                "batch_size": self.batch_size, "learning_rate": self.learning_rate,
                "metadata": self.metadata, "network": _listify(self.network),
                "objective": self.objective_settings, "encoder": self.encoder.to_dict(),
                "counts": self._counts, "history": self.history,
                "privacy": {"epsilon": self.epsilon, "delta": self.delta,
                            "noise_multiplier": self.noise_multiplier,
                            "l2_clip_norm": self.l2_clip_norm, "report": self.privacy_report}}
        ckpt = path / "params"
        with ocp.StandardCheckpointer() as cp:
            cp.save(ckpt, {"params": self._params, "model_state": self._model_state}, force=True)
        (path / "synthesizer.json").write_text(json.dumps(meta, indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> TabularSynthesizer:
        """A synthesizer saved by :meth:`save`; samples are identical to the original's."""
        import orbax.checkpoint as ocp
        path = Path(path).absolute()
        meta_file = path / "synthesizer.json"
        if not meta_file.exists():
            raise ValueError(f"{path} is not a saved TabularSynthesizer (no synthesizer.json)")
        meta = json.loads(meta_file.read_text())
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path} was saved in format {meta.get('format_version')} by jaxsynth "
                             f"{meta.get('jaxsynth_version')}; this jaxsynth reads format "
                             f"{FORMAT_VERSION}: refit the model with this version")
        synth = cls(meta["model"], seed=meta["seed"], epochs=meta["epochs"],
                    batch_size=meta["batch_size"], learning_rate=meta["learning_rate"],
                    metadata=meta["metadata"], progress=False,
                    **{k: v for k, v in meta["privacy"].items() if k != "report"},
                    **{k: tuple(v) if isinstance(v, list) else v for k, v in meta["network"].items()},
                    **meta["objective"])
        synth.encoder = TableEncoder.from_dict(meta["encoder"])
        synth.layout = TableLayout.from_encoder(synth.encoder)
        synth._counts, synth.history = meta["counts"], meta["history"]
        synth.privacy_report = meta["privacy"]["report"]
        synth.objective = synth._objective(synth.layout)
        synth._model = nnx.eval_shape(lambda: synth._network(synth.layout, nnx.Rngs(0)))
        _, params, rest = synth._split(synth._model)
        target = jax.tree.map(ocp.utils.to_shape_dtype_struct,
                              {"params": params, "model_state": rest})
        with ocp.StandardCheckpointer() as cp:
            restored = cp.restore(path / "params", target)
        synth._set_params(restored["params"], restored["model_state"])
        return synth


def _frequency_cond(key, n: int, counts: list[list[int]], width: int) -> jax.Array:
    """Condition vectors with a uniform column and a category drawn by its data frequency."""
    if not counts:
        return jnp.zeros((n, 0))
    max_k = max(len(c) for c in counts)
    table = np.full((len(counts), max_k), -np.inf, np.float32)
    for j, c in enumerate(counts):
        with np.errstate(divide="ignore"):
            table[j, :len(c)] = np.log(np.asarray(c) / max(sum(c), 1))
    offsets = jnp.asarray(np.cumsum([0] + [len(c) for c in counts])[:-1])
    k_col, k_cat = jax.random.split(key)
    col = jax.random.randint(k_col, (n,), 0, len(counts))
    cat = jax.random.categorical(k_cat, jnp.asarray(table)[col], axis=-1)
    return jax.nn.one_hot(offsets[col] + cat, width)


def _listify(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def poisson_rows(key: jax.Array, data: jax.Array, expected: int, padded: int) -> dict:
    """Poisson sampling inside a compiled epoch: every row joins with probability
    ``expected / n``; the batch is padded to ``padded`` rows with a mask (truncation past it is
    a 5-sigma event). ``{"x": [padded, width], MASK_KEY: [padded]}``."""
    n = data.shape[0]
    chosen = jax.random.bernoulli(key, expected / n, (n,))
    idx = jnp.nonzero(chosen, size=padded, fill_value=0)[0]
    mask = (jnp.arange(padded) < chosen.sum()).astype(jnp.float32)
    return {"x": data[idx], MASK_KEY: mask}


def _progress(total: int, desc: str, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=total, desc=desc, unit="epoch")
