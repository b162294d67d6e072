"""Image metrics in the feature space of a small classifier that ships with jaxsynth.

No Inception weights can be downloaded here, so each embedded data set has its own feature
network, trained with jaxsynth's core (``experiments/digits_classifier.py``,
``experiments/mnist_classifier.py``) and shipped as a versioned weights file in
``jaxsynth/eval/weights/``. Figures are named after the network they were measured with, e.g.
``"fid[digits-net-v1]"``: they are comparable with each other, never with published
Inception FIDs. Any other extractor (your own Inception port, say) plugs in as a
:class:`FeatureNet`.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxsynth.eval.diversity import prdc
from jaxsynth.utils.arrays import pad_rows

WEIGHTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")
NETS = ("digits", "mnist")


@dataclasses.dataclass(frozen=True)
class FeatureNet:
    """A feature extractor: ``features(images [N, H, W, C] in [0, 1]) -> [N, D]``, and if it is
    a classifier ``logits(images) -> [N, classes]``. ``name`` labels every figure."""

    name: str
    features: Callable[[np.ndarray], np.ndarray]
    logits: Callable[[np.ndarray], np.ndarray] | None = None
    info: dict[str, Any] = dataclasses.field(default_factory=dict)


def _batched(fn, images: np.ndarray, batch_size: int) -> np.ndarray:
    images = np.asarray(images, np.float32)
    out = []
    for start in range(0, len(images), batch_size):
        block = images[start:start + batch_size]
        n = len(block)
        block = pad_rows(block, batch_size)  # one compiled shape
        out.append(np.asarray(fn(jnp.asarray(block)))[:n])
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def _flatten(tree: dict, prefix: str = "") -> dict[str, np.ndarray]:
    flat = {}
    for k, v in tree.items():
        key = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            flat.update(_flatten(v, key))
        else:
            flat[key] = np.asarray(v)
    return flat


def _unflatten_into(tree: dict, flat: dict[str, np.ndarray], prefix: str = "") -> dict:
    out = {}
    for k, v in tree.items():
        key = f"{prefix}/{k}" if prefix else str(k)
        if isinstance(v, dict):
            out[k] = _unflatten_into(v, flat, key)
        else:
            if key not in flat:
                raise ValueError(f"weights file lacks parameter {key!r}")
            if flat[key].shape != tuple(v.shape):
                raise ValueError(f"parameter {key!r} has shape {flat[key].shape} in the weights "
                                 f"file, {tuple(v.shape)} in the model")
            out[k] = jnp.asarray(flat[key])
    return out


def save_classifier(model, path: str, meta: dict[str, Any]) -> dict[str, Any]:
    """Write a :class:`~jaxsynth.models.ConvClassifier`'s parameters to ``path`` (``.npz``) and
    ``meta`` plus the file's SHA-256 to the ``.json`` beside it; returns that meta."""
    from flax import nnx
    flat = _flatten(nnx.to_pure_dict(nnx.state(model, nnx.Param)))
    np.savez_compressed(path, **flat)
    with open(path, "rb") as f:
        meta = {**meta, "sha256": hashlib.sha256(f.read()).hexdigest()}
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(meta, f, indent=1)
    return meta


def load_classifier(path: str):
    """``(model, meta)`` from a weights file written by :func:`save_classifier` (checked
    against its SHA-256)."""
    from flax import nnx

    from jaxsynth.models import build_model
    with open(os.path.splitext(path)[0] + ".json") as f:
        meta = json.load(f)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    if digest != meta["sha256"]:
        raise ValueError(f"{path} does not match its recorded SHA-256 (corrupt or replaced)")
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in meta["model"].items() if k != "name"}
    model = build_model("classifier", tuple(meta["image_shape"]), **settings)
    state = nnx.state(model, nnx.Param)
    with np.load(path) as data:
        pure = _unflatten_into(nnx.to_pure_dict(state), dict(data))
    nnx.replace_by_pure_dict(state, pure)
    nnx.update(model, state)
    return model, meta


@functools.cache
def feature_net(name: str = "digits", *, batch_size: int = 500) -> FeatureNet:
    """The shipped feature network of an embedded data set: ``"digits"`` (8x8) or ``"mnist"``
    (28x28). Its ``info`` holds the training settings and the held-out test accuracy."""
    if name not in NETS:
        raise ValueError(f"no shipped feature net {name!r}; available: {NETS}, or build a "
                         "FeatureNet from your own extractor")
    path = os.path.join(WEIGHTS_DIR, f"{name}_net_v1.npz")
    if not os.path.exists(path):
        raise ValueError(f"the {name} feature net's weights are not in this installation ({path})")
    model, meta = load_classifier(path)
    from flax import nnx
    graphdef, state = nnx.split(model)

    @jax.jit
    def feats(x):
        return nnx.merge(graphdef, state).features(x)

    @jax.jit
    def logits(x):
        return nnx.merge(graphdef, state)(x)

    return FeatureNet(name=meta["name"], features=lambda x: _batched(feats, x, batch_size),
                      logits=lambda x: _batched(logits, x, batch_size), info=meta)


def _net(net: str | FeatureNet) -> FeatureNet:
    return feature_net(net) if isinstance(net, str) else net


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """``|mu_r - mu_f|^2 + Tr(C_r + C_f - 2 (C_r C_f)^(1/2))`` between Gaussians fitted to two
    feature sets ``[N, D]`` (Heusel et al. 2017's FID formula). 0: same mean and covariance;
    lower is better.

    >>> x = np.random.default_rng(0).normal(size=(500, 4))
    >>> round(frechet_distance(x, x), 6)
    0.0
    """
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    if real.ndim != 2 or fake.ndim != 2 or real.shape[1] != fake.shape[1] or min(len(real), len(fake)) < 2:
        raise ValueError(f"frechet_distance needs [N, D] features with the same D and N >= 2, got "
                         f"{real.shape} and {fake.shape}")
    mu1, mu2 = real.mean(0), fake.mean(0)
    c1, c2 = np.cov(real, rowvar=False).reshape(real.shape[1], -1), np.cov(fake, rowvar=False).reshape(
        fake.shape[1], -1)
    # Tr (C1 C2)^(1/2) = Tr (S C2 S)^(1/2) with S = C1^(1/2): both symmetric positive
    # semi-definite, so eigh is exact and stable where C1 or C2 is singular (dead features).
    w, v = np.linalg.eigh(c1)
    s = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(s @ c2 @ s), 0.0, None)).sum()
    value = float(np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2.0 * trace_sqrt)
    return max(value, 0.0)


def kernel_distance(real: np.ndarray, fake: np.ndarray, *, subsets: int = 10, subset_size: int = 1000,
                    seed: int = 0) -> tuple[float, float]:
    """KID (Binkowski et al. 2018): the unbiased squared MMD with the kernel
    ``k(x, y) = (x.y / D + 1)^3``, averaged over ``subsets`` random subsets of ``subset_size``
    rows (capped by the smaller set). Returns ``(mean, std)``; 0 in expectation for the same
    distribution (it can dip below 0); lower is better."""
    real, fake = np.asarray(real, np.float64), np.asarray(fake, np.float64)
    m = min(subset_size, len(real), len(fake))
    if m < 2:
        raise ValueError("kernel_distance needs at least 2 rows in each feature set")
    d = real.shape[1]
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(subsets):
        x = real[rng.choice(len(real), m, replace=False)]
        y = fake[rng.choice(len(fake), m, replace=False)]
        kxx, kyy, kxy = ((x @ x.T) / d + 1) ** 3, ((y @ y.T) / d + 1) ** 3, ((x @ y.T) / d + 1) ** 3
        pairs = m * (m - 1)
        values.append((kxx.sum() - np.trace(kxx)) / pairs + (kyy.sum() - np.trace(kyy)) / pairs
                      - 2.0 * kxy.mean())
    return float(np.mean(values)), float(np.std(values))


def class_accuracy(images: np.ndarray, labels: np.ndarray, net: str | FeatureNet = "digits") -> float:
    """Share of ``images`` the classifier assigns to their intended ``labels`` (does label K
    produce K?). 1 best."""
    net = _net(net)
    if net.logits is None:
        raise ValueError(f"feature net {net.name!r} is not a classifier (no logits)")
    labels = np.asarray(labels).reshape(-1)
    if len(labels) != len(images):
        raise ValueError(f"{len(images)} images but {len(labels)} labels")
    return float(np.mean(np.argmax(net.logits(images), axis=-1) == labels))


def psnr(reference: np.ndarray, reconstruction: np.ndarray, *, data_range: float = 1.0) -> float:
    """Mean peak signal-to-noise ratio in dB over images ``[N, H, W, C]`` in ``[0, data_range]``
    (dm-pix). Higher is better; identical images give infinity."""
    import dm_pix
    a = jnp.asarray(reference, jnp.float32) / data_range
    b = jnp.asarray(reconstruction, jnp.float32) / data_range
    return float(jnp.mean(dm_pix.psnr(a, b)))


def ssim(reference: np.ndarray, reconstruction: np.ndarray, *, data_range: float = 1.0) -> float:
    """Mean structural similarity (Wang et al. 2004, Gaussian window; dm-pix) over images
    ``[N, H, W, C]``; 1 for identical images, higher is better. The window shrinks to fit
    images smaller than 11 pixels."""
    import dm_pix
    a = jnp.asarray(reference, jnp.float32) / data_range
    b = jnp.asarray(reconstruction, jnp.float32) / data_range
    size = min(11, a.shape[1], a.shape[2])
    size -= 1 - size % 2  # odd
    return float(jnp.mean(dm_pix.ssim(a, b, filter_size=size, filter_sigma=1.5 * size / 11)))


def image_metrics(real: np.ndarray, fake: np.ndarray, net: str | FeatureNet = "digits", *,
                  labels: np.ndarray | None = None, k: int = 3, seed: int = 0) -> dict[str, float]:
    """FID, KID and precision / recall (Kynkäänniemi et al. 2019, ``k`` nearest neighbours) of
    ``fake`` against ``real`` images ``[N, H, W, C]`` in ``[0, 1]``, in ``net``'s feature space,
    plus the classifier's accuracy on ``fake`` if their intended ``labels`` are given. Keys
    name the network: ``"fid[digits-net-v1]"``, ``"kid[...]"``, ``"precision[...]"``,
    ``"recall[...]"``, ``"class_accuracy[...]"``."""
    net = _net(net)
    fr, ff = net.features(real), net.features(fake)
    kid, _ = kernel_distance(fr, ff, seed=seed)
    pr = prdc(fr, ff, k=k)
    out = {f"fid[{net.name}]": frechet_distance(fr, ff), f"kid[{net.name}]": kid,
           f"precision[{net.name}]": pr["precision"], f"recall[{net.name}]": pr["recall"]}
    if labels is not None:
        out[f"class_accuracy[{net.name}]"] = class_accuracy(fake, labels, net)
    return out
