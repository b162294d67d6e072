"""An :class:`Experiment` turns a config into the pieces the core needs: mesh, data, model split
into pure pytrees, objective, optimizer, the jitted step and a jitted sampler."""

from __future__ import annotations

import functools
import json
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from flax import nnx

import jaxsynth
from jaxsynth.config import validate
from jaxsynth.data import BatchIterator, PoissonBatchIterator, build_source, scale_images
from jaxsynth.models import build_model
from jaxsynth.objectives import build_objective
from jaxsynth.privacy import plan as privacy_plan
from jaxsynth.train.checkpoint import abstract_like
from jaxsynth.train.game import init_game_state, make_game_train_step, split_players
from jaxsynth.train.sharding import make_mesh, replicated
from jaxsynth.train.state import TrainState, init_state, make_optimizer, split_model
from jaxsynth.train.step import make_train_step

SCALES = ("none", "minus_one_one")
# For programs that run once (initialisers): compile time dominates, run time does not.
FAST_COMPILE = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
# Parts of the config that define what a checkpoint holds; they may not change on resume.
IDENTITY_FIELDS = ("model", "objective")


def to_jsonable(config: ml_collections.ConfigDict) -> dict:
    """The config as plain JSON types (tuples become lists)."""
    return json.loads(json.dumps(config.to_dict(), default=list))


def _kwargs(section: ml_collections.ConfigDict, drop: str = "name") -> dict[str, Any]:
    out = {k: v for k, v in section.to_dict().items() if k != drop}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in out.items()}


class Experiment:
    """Everything built from one config. Construction is cheap: no parameters are allocated
    until :meth:`init_state` (which initialises them directly with their final sharding)."""

    def __init__(self, config: ml_collections.ConfigDict, *, mesh=None,
                 data_shape: tuple[int, ...] | None = None):
        validate(config)
        self.config = config
        self.mesh = mesh if mesh is not None else make_mesh(config.train.get("num_devices", None))
        d = config.data
        self.data_key = d.get("key", "image")
        self.scale = d.get("scale", "none")
        if self.scale not in SCALES:
            raise ValueError(f"data.scale={self.scale!r}; choose one of {SCALES}")
        self._source = None
        self.data_shape = tuple(data_shape) if data_shape is not None else None
        self.objective = build_objective(config.objective.name, **_kwargs(config.objective))
        if getattr(self.objective, "data_key", self.data_key) != self.data_key:
            raise ValueError(
                f"objective.data_key={self.objective.data_key!r} but data.key={self.data_key!r}"
            )
        # A game (GANs) has players, each with its own parameters and optimizer.
        self.players = tuple(p for p, _ in getattr(self.objective, "players", ()))
        t = config.train
        rates = dict(t.get("learning_rates", None) or {})
        unknown = sorted(set(rates) - set(self.players))
        if unknown:
            raise ValueError(f"train.learning_rates names {unknown}, which are not players of "
                             f"objective {config.objective.name!r} (players: {list(self.players)})")

        def optimizer(lr):
            return make_optimizer(
                lr, warmup_steps=t.get("warmup_steps", 0), grad_clip_norm=t.get("grad_clip_norm", 1.0),
                weight_decay=t.get("weight_decay", 0.0), b1=t.get("b1", 0.9), b2=t.get("b2", 0.999),
            )

        self.optimizer = optimizer(t.learning_rate)
        self.optimizers = {p: optimizer(rates.get(p, t.learning_rate)) for p in self.players}
        self.root_key = jax.random.key(int(config.get("seed", 0)))
        if self.data_shape is None:
            self.data_shape = self._shape_from_source()
        self._create = functools.partial(
            build_model, config.model.name, self.data_shape, seed=int(config.get("seed", 0)),
            **_kwargs(config.model),
        )
        self.label_key = getattr(self.objective, "label_key", None)
        if self.label_key:
            if not int(config.model.get("num_classes", 0)):
                raise ValueError(f"objective.label_key={self.label_key!r} needs a class-conditional "
                                 "model: set model.num_classes")
        self.private = privacy_plan.is_private(config.get("privacy"))
        if self.private and getattr(self.objective, "updates_model_state", False):
            raise ValueError(f"objective {config.objective.name!r} updates model state from the data "
                             "(an EMA codebook) outside DP-SGD's clipping, so it cannot train under "
                             "config.privacy")
        readers = tuple(getattr(self.objective, "data_players", self.players))
        if self.private and self.players and readers != ("discriminator",):
            raise ValueError(f"objective {config.objective.name!r} is a game whose players {list(readers)}"
                             " read real data; DP-SGD here privatises one 'discriminator' that alone "
                             "reads it (a GAN), so this game cannot train under config.privacy")
        self.privacy: privacy_plan.PrivacyPlan | None = None  # set by plan_privacy()
        abstract = nnx.eval_shape(self._create)
        if self.players:
            missing = [p for p in self.players if not hasattr(abstract, p)]
            if missing:
                raise ValueError(f"model {config.model.name!r} has no player(s) {missing} that objective "
                                 f"{config.objective.name!r} trains")
            self.graphdef, self._abs_params, self._abs_model_state = split_players(
                abstract, self.players)
        else:
            self.graphdef, self._abs_params, self._abs_model_state = split_model(abstract)

    # ---------------------------------------------------------------- data
    @property
    def source(self):
        if self._source is None:
            d = self.config.data
            self._source = build_source(**{k: v for k, v in d.to_dict().items()
                                           if k not in ("key", "scale")})
        return self._source

    def _shape_from_source(self) -> tuple[int, ...]:
        first = self.source[0]
        if self.data_key not in first:
            raise ValueError(
                f"data.key={self.data_key!r} is not in the records; they hold {sorted(first)}"
            )
        return tuple(np.asarray(first[self.data_key]).shape)

    def batches(self) -> BatchIterator:
        transform = scale_images(self.data_key) if self.scale == "minus_one_one" else None
        keep = [self.data_key] + ([self.label_key] if self.label_key else [])
        missing = [k for k in keep if k not in self.source[0]]
        if missing:
            raise ValueError(f"objective.label_key={self.label_key!r} is not in the records; they hold "
                             f"{sorted(self.source[0])}")

        def select(batch):
            batch = {k: batch[k] for k in keep}
            return transform(batch) if transform else batch

        if self.private:
            if self.privacy is None:
                self.plan_privacy()
            return PoissonBatchIterator(
                self.source, sampling_rate=self.privacy.sampling_rate, mesh=self.mesh,
                seed=int(self.config.get("seed", 0)), transform=select,
            )
        per_step = int(getattr(self.objective, "batches_per_step", 1))
        return BatchIterator(
            self.source, global_batch_size=int(self.config.train.batch_size) * per_step,
            mesh=self.mesh,
            seed=int(self.config.get("seed", 0)), transform=select,
        )

    # ---------------------------------------------------------------- state
    def init_state(self) -> TrainState:
        """Fresh parameters (from ``config.seed``) and optimizer state, created directly with
        their final (replicated) sharding.

        The initialiser runs once, so it is compiled without XLA's expensive optimisations:
        on 2 CPU cores that took 5 s instead of 17 s (and eager initialisation 36 s).
        """

        def create():
            if self.players:
                _, params, model_state = split_players(self._create(), self.players)
                return init_game_state(params, model_state, self.optimizers)
            _, params, model_state = split_model(self._create())
            return init_state(params, model_state, self.optimizer)

        lowered = jax.jit(create, out_shardings=replicated(self.mesh)).lower()
        return lowered.compile(compiler_options=FAST_COMPILE)()

    def abstract_state(self) -> TrainState:
        if self.players:
            shapes = jax.eval_shape(lambda p, r: init_game_state(p, r, self.optimizers),
                                    self._abs_params, self._abs_model_state)
        else:
            shapes = jax.eval_shape(lambda p, r: init_state(p, r, self.optimizer),
                                    self._abs_params, self._abs_model_state)
        return abstract_like(shapes, replicated(self.mesh))

    def plan_privacy(self, previous_ledger: dict | None = None):
        """Decide the DP-SGD settings (private configs only); ``previous_ledger`` comes from the
        checkpoint being resumed."""
        self.privacy = privacy_plan.make_plan(
            self.config.privacy, num_records=len(self.source),
            expected_batch_size=int(self.config.train.batch_size),
            steps=int(self.config.train.steps), previous=previous_ledger,
        )
        return self.privacy

    def train_step(self):
        ema_decay = float(self.config.train.get("ema_decay", 0.999))
        if self.private and self.privacy is None:
            self.plan_privacy()
        if self.players:
            return make_game_train_step(self.graphdef, self.objective, self.optimizers,
                                        mesh=self.mesh, root_key=self.root_key, ema_decay=ema_decay,
                                        privacy=self.privacy.dpsgd if self.private else None)
        return make_train_step(
            self.graphdef, self.objective, self.optimizer, mesh=self.mesh,
            root_key=self.root_key, ema_decay=ema_decay,
            privacy=self.privacy.dpsgd if self.private else None,
        )

    # ---------------------------------------------------------------- identity
    def meta(self) -> dict[str, Any]:
        return {
            "jaxsynth_version": jaxsynth.__version__,
            "data_shape": list(self.data_shape),
            "config": to_jsonable(self.config),
        }

    def check_compatible(self, meta: dict[str, Any], where: str) -> None:
        """Raise ``ValueError`` if a checkpoint's meta describes another model."""
        mine = self.meta()
        theirs_cfg = meta.get("config", {})
        if self.private != ("privacy" in meta):
            have = "a private" if "privacy" in meta else "a non-private"
            raise ValueError(
                f"{where} holds {have} checkpoint but this config is "
                f"{'private' if self.private else 'not private'}; a run cannot switch, use a new "
                "--workdir"
            )
        for section in IDENTITY_FIELDS:
            a, b = theirs_cfg.get(section), mine["config"][section]
            if a != b:
                diff = sorted(k for k in set(a or {}) | set(b) if (a or {}).get(k) != b.get(k))
                detail = ", ".join(
                    f"{section}.{k}: {(a or {}).get(k)!r} there, {b.get(k)!r} here" for k in diff
                )
                raise ValueError(
                    f"{where} holds a checkpoint of a different model ({detail}); use a new "
                    "--workdir, or the config that checkpoint was trained with"
                )
        if meta.get("data_shape") != mine["data_shape"]:
            raise ValueError(
                f"{where} holds a checkpoint trained on data of shape {meta.get('data_shape')}, "
                f"but this config's data has shape {mine['data_shape']}; use a new --workdir"
            )

    # ---------------------------------------------------------------- sampling
    def merge(self, params, model_state):
        """The model from pure state: one module, or for a game a dict of modules by player."""
        if self.players:
            return {p: nnx.merge(self.graphdef[p], params[p], model_state[p]) for p in self.players}
        return nnx.merge(self.graphdef, params, model_state)

    @property
    def num_classes(self) -> int:
        """Classes of a class-conditional model (0: unconditional)."""
        return int(self.config.model.get("num_classes", 0)) if self.label_key else 0

    def sampler(self, batch_size: int, *, sampler: str, steps: int | None, eta: float,
                guidance: float = 1.0):
        """A jitted ``fn(params, model_state, key, labels) -> [batch_size, *data_shape]`` in data
        scale (``[0, 1]`` for images scaled to ``[-1, 1]`` for training; for latent diffusion,
        the autoencoder's decoded images). ``labels``: ``None``
        (unconditional) or ``[batch_size]`` int classes, guided with ``guidance``."""
        shape = (batch_size,) + tuple(self.data_shape)
        # Latent diffusion: samples are latents, decoded into images by the autoencoder.
        decode = self.source.decode if self.config.data.source == "latents" else None

        @jax.jit
        def fn(params, model_state, key, labels=None):
            model = self.merge(params, model_state)
            extra = {} if labels is None else {"labels": labels, "guidance": guidance}
            x = self.objective.sample(model, shape, key, sampler=sampler, steps=steps, eta=eta, **extra)
            if decode is not None:
                return decode(x)
            if self.scale == "minus_one_one":
                x = jnp.clip((x + 1.0) / 2.0, 0.0, 1.0)
            return x

        return fn
