"""The training loop: resume from the latest checkpoint, step, log, checkpoint, stop cleanly.

Section by section: set-up (experiment, checkpoints, resume) -> loop (step, metrics, progress,
periodic checkpoints) -> stop (final or SIGTERM checkpoint, summary JSON).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from typing import Any

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from clu import parameter_overview
from tqdm.auto import tqdm

from jaxsynth.privacy import plan as privacy_plan
from jaxsynth.train.checkpoint import Checkpointer
from jaxsynth.train.experiment import Experiment
from jaxsynth.train.writer import MetricWriter

CHECKPOINT_SUBDIR = "checkpoints"


class NonFiniteLossError(RuntimeError):
    """Training produced a NaN or infinite loss; the last good checkpoint is kept."""


@contextlib.contextmanager
def _stop_on_sigterm():
    """Yield a dict whose ``"stop"`` flag turns true when SIGTERM arrives (preemption)."""
    flag = {"stop": False}
    previous = None

    def handler(signum, frame):
        flag["stop"] = True

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: no handler, training still works
        previous = None
    try:
        yield flag
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _write_json(path: str, payload: Any) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=2)
    os.replace(tmp, path)


def train(config: ml_collections.ConfigDict, workdir: str, *, progress: bool = True,
          mesh=None) -> dict[str, Any]:
    """Train (or resume training) to ``config.train.steps`` in ``workdir``.

    Returns a summary dict (also written to ``workdir/metrics.json``): ``step``, ``resumed_from``,
    ``final_loss``, ``steps_per_second`` (after compilation), ``wall_time_s``, ``stopped_by``.
    Raises :class:`NonFiniteLossError` if the loss stops being finite, leaving the last good
    checkpoint in place.
    """
    # ------------------------------------------------------------------ set-up
    workdir = os.path.abspath(workdir)
    os.makedirs(workdir, exist_ok=True)
    exp = Experiment(config, mesh=mesh)
    ckpt = Checkpointer(os.path.join(workdir, CHECKPOINT_SUBDIR))
    latest = ckpt.latest_step()
    previous_meta = ckpt.read_meta(latest) if latest is not None else None
    if previous_meta is not None:
        exp.check_compatible(previous_meta, f"--workdir {workdir}")
    if exp.private:
        exp.plan_privacy(previous_meta.get("privacy") if previous_meta else None)
    batches = exp.batches()
    if latest is not None:
        state, data_state, _ = ckpt.restore(latest, exp.abstract_state())
        batches.set_state(data_state)
    else:
        state = exp.init_state()
    meta = exp.meta()
    is_chief = jax.process_index() == 0  # one process writes the human-facing files
    pure = _pure(state.params)
    n_params = int(parameter_overview.count_parameters(pure))
    if is_chief:
        _write_json(os.path.join(workdir, "config.json"), meta["config"])
        with open(os.path.join(workdir, "parameters.txt"), "w", encoding="utf-8") as f:
            f.write(parameter_overview.get_parameter_overview(pure, include_stats=False) + "\n")
    step_fn = exp.train_step()

    t = config.train
    total = int(t.steps)
    stop_reason = "done"
    if exp.privacy is not None and exp.privacy.max_steps is not None and exp.privacy.max_steps < total:
        total, stop_reason = exp.privacy.max_steps, "privacy budget"
    if exp.privacy is not None and is_chief and progress:
        print(privacy_plan.describe(exp.privacy, total))
    log_every = int(t.get("log_every", 100))
    ckpt_every = int(t.get("checkpoint_every", 1000))
    start = int(jax.device_get(state.step))
    summary: dict[str, Any] = {"step": start, "resumed_from": start, "stopped_by": stop_reason,
                               "num_parameters": n_params, "num_devices": exp.mesh.devices.size}

    # ------------------------------------------------------------------ loop
    writer = MetricWriter(workdir, enabled=is_chief)
    pending: list[dict[str, jax.Array]] = []
    last_loss = float("nan")
    t_start = time.perf_counter()
    t_compiled, step_compiled = None, start
    pbar = tqdm(total=total, initial=start, desc="train", disable=not (progress and is_chief),
                dynamic_ncols=True, mininterval=1.0)
    try:
        with _stop_on_sigterm() as flag:
            for step in range(start, total):
                state, metrics = step_fn(state, next(batches))
                pending.append(metrics)
                done = step + 1
                if t_compiled is None:
                    jax.block_until_ready(metrics)
                    t_compiled, step_compiled = time.perf_counter(), done
                stop = flag["stop"]
                if done % log_every == 0 or done == total or stop or done % ckpt_every == 0:
                    host = jax.device_get(pending)
                    pending = []
                    if any(int(m["nonfinite"]) for m in host):
                        raise NonFiniteLossError(
                            f"the loss became non-finite by step {done}; training stopped. The last "
                            f"good checkpoint (step {ckpt.latest_step()}) is kept in {ckpt.directory}"
                            "; lower train.learning_rate or check the data for NaN/inf"
                        )
                    means = {k: float(np.mean([m[k] for m in host])) for k in host[0]
                             if k != "nonfinite"}
                    last_loss = means.get("loss", last_loss)
                    if exp.privacy is not None:
                        means["epsilon"] = exp.privacy.epsilon(done)
                    writer.write_scalars(done, means)
                    pbar.set_postfix(loss=f"{last_loss:.4f}")
                if done % ckpt_every == 0 or done == total or stop:
                    if exp.privacy is not None:
                        meta = {**meta, "privacy": exp.privacy.ledger(done)}
                    ckpt.save(done, state, batches.get_state(), meta)
                pbar.update(1)
                summary["step"] = done
                if stop:
                    summary["stopped_by"] = "SIGTERM"
                    break
    finally:
        pbar.close()
        writer.close()
        ckpt.close()

    # ------------------------------------------------------------------ stop
    now = time.perf_counter()
    ran = summary["step"] - step_compiled
    summary.update(
        final_loss=last_loss,
        wall_time_s=now - t_start,
        steps_per_second=(ran / (now - t_compiled)) if t_compiled and ran > 0 else None,
        history=_read_history(writer.path) if is_chief else [],
    )
    if exp.privacy is not None:
        summary["privacy"] = exp.privacy.ledger(summary["step"])
    if is_chief:
        _write_json(os.path.join(workdir, "metrics.json"), summary)
    return summary


def _pure(params) -> dict:
    """Parameters as nested dicts (a game's: one entry per player)."""
    if isinstance(params, dict):
        return {k: v.to_pure_dict() for k, v in params.items()}
    return params.to_pure_dict()


def _read_history(path: str) -> list[dict[str, float]]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_experiment(workdir: str, *, mesh=None):
    """``(experiment, state)`` from the latest checkpoint in ``workdir`` (for sampling)."""
    directory = os.path.join(os.path.abspath(workdir), CHECKPOINT_SUBDIR)
    if not os.path.isdir(directory):
        raise ValueError(f"--workdir {workdir} holds no checkpoints; train a model there first")
    ckpt = Checkpointer(directory, read_only=True)
    latest = ckpt.latest_step()
    if latest is None:
        raise ValueError(f"--workdir {workdir} holds no checkpoints; train a model there first")
    meta = ckpt.read_meta(latest)
    try:
        config = ml_collections.ConfigDict(meta["config"])
        exp = Experiment(config, mesh=mesh, data_shape=tuple(meta["data_shape"]))
    except (KeyError, TypeError) as e:
        raise ValueError(f"checkpoint {directory}/{latest} has an unusable meta item ({e})") from None
    state, _, _ = ckpt.restore(latest, exp.abstract_state())
    ckpt.close()
    return exp, state


def sample_from_workdir(
    workdir: str, n: int, *, seed: int = 0, sampler: str = "ddim", steps: int | None = None,
    eta: float = 0.0, batch_size: int = 256, use_ema: bool = True, progress: bool = False,
    label: int | None = None, guidance: float = 1.0,
) -> np.ndarray:
    """Draw ``n`` samples from the latest checkpoint: ``[n, *data_shape]`` float32.

    Samples are drawn in batches of ``batch_size`` (the last one padded, then trimmed); batch
    ``i`` uses key ``fold_in(key(seed), i)``, so the same ``seed`` and ``batch_size`` give the same
    samples. ``label`` (class-conditional models): every sample of that class, with classifier-
    free ``guidance`` (0: unconditional, 1: conditional, more: stricter).
    """
    if n <= 0:
        raise ValueError(f"-n must be a positive number of samples, got {n}")
    if batch_size <= 0:
        raise ValueError(f"--batch-size must be positive, got {batch_size}")
    exp, state = load_experiment(workdir)
    params = state.ema_params if use_ema else state.params
    batch_size = min(batch_size, n)
    labels = None
    if label is not None:
        classes = exp.num_classes
        if not classes:
            raise ValueError("--label: this model was trained without labels (model.num_classes=0 "
                             "or no objective.label_key)")
        if not 0 <= label < classes:
            raise ValueError(f"--label {label} is out of range: the model knows classes 0..{classes - 1}")
        labels = jnp.full((batch_size,), label, jnp.int32)
    elif guidance != 1.0:
        raise ValueError("--guidance needs --label: guidance steers samples towards a class")
    fn = exp.sampler(batch_size, sampler=sampler, steps=steps, eta=eta, guidance=guidance)
    root = jax.random.key(seed)
    chunks = []
    for i in tqdm(range(-(-n // batch_size)), desc="sample", disable=not progress):
        chunks.append(np.asarray(fn(params, state.model_state, jax.random.fold_in(root, i), labels)))
    return np.concatenate(chunks)[:n].astype(np.float32)


def slerp(z0: np.ndarray, z1: np.ndarray, steps: int) -> np.ndarray:
    """``[steps, d]`` points on the great circle from ``z0`` to ``z1`` (spherical interpolation,
    which keeps Gaussian latents at a typical norm; linear where the two are parallel).

    >>> slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 3).round(3).tolist()
    [[1.0, 0.0], [0.707, 0.707], [0.0, 1.0]]
    """
    z0, z1 = np.asarray(z0, np.float64), np.asarray(z1, np.float64)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    cos = np.dot(z0, z1) / max(np.linalg.norm(z0) * np.linalg.norm(z1), 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    if omega < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)


def interpolate_from_workdir(workdir: str, steps: int = 10, *, seed: int = 0, label: int | None = None,
                             use_ema: bool = True) -> np.ndarray:
    """``[steps, *data_shape]`` images decoded along the path between two random latents of a
    VAE's prior (:func:`slerp`), in ``[0, 1]``. ``label`` for a conditional VAE."""
    if steps < 2:
        raise ValueError(f"--steps must be at least 2, got {steps}")
    exp, state = load_experiment(workdir)
    if not hasattr(exp.objective, "decode_mean"):
        raise ValueError(f"--workdir {workdir} holds a {exp.config.objective.name!r} model; interpolation "
                         "walks a VAE's latent space (objective 'elbo')")
    if exp.num_classes and label is None:
        raise ValueError(f"this VAE is conditional ({exp.num_classes} classes): pass --label")
    if label is not None and not 0 <= label < max(exp.num_classes, 0):
        raise ValueError(f"--label {label}: the model knows classes 0..{exp.num_classes - 1}"
                         if exp.num_classes else "--label: this model was trained without labels")
    params = state.ema_params if use_ema else state.params
    model = exp.merge(params, state.model_state)
    rng = np.random.default_rng(seed)
    size = exp.objective.latent_size(model)
    z = slerp(rng.normal(size=size), rng.normal(size=size), steps)
    labels = None if label is None else jnp.full((steps,), label, jnp.int32)
    images = exp.objective.decode_mean(model, jnp.asarray(z, jnp.float32), labels)
    return np.clip(np.asarray(images, np.float32), 0.0, 1.0)
