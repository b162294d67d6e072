"""Image metrics in the shipped feature networks' spaces."""

import hashlib
import json

import numpy as np
import pytest

from jaxsynth.data.sources import embedded_source
from jaxsynth.eval.images import (
    WEIGHTS_DIR,
    FeatureNet,
    class_accuracy,
    feature_net,
    frechet_distance,
    image_metrics,
    kernel_distance,
    psnr,
    ssim,
)


def _images(name, split):
    src = embedded_source(name, split)
    return (np.stack([src[i]["image"] for i in range(len(src))]),
            np.array([src[i]["label"] for i in range(len(src))]))


@pytest.mark.parametrize("name", ["digits", "mnist"])
def test_shipped_feature_net_is_a_real_classifier(name):
    with open(f"{WEIGHTS_DIR}/{name}_net_v1.json") as f:
        meta = json.load(f)
    with open(f"{WEIGHTS_DIR}/{name}_net_v1.npz", "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == meta["sha256"]
    images, labels = _images(name, "test")  # never trained on
    images, labels = images[:500], labels[:500]
    net = feature_net(name)
    assert net.name == f"{name}-net-v1"
    assert class_accuracy(images, labels, net) > 0.9
    assert net.features(images[:7]).shape == (7, meta["feature_dim"])


def test_fid_is_zero_against_itself_and_grows_with_noise():
    images, _ = _images("digits", "all")
    net = feature_net("digits")
    rng = np.random.default_rng(0)
    fid = {s: image_metrics(images, np.clip(images + s * rng.normal(size=images.shape), 0, 1), net)
           for s in (0.0, 0.1, 0.3)}
    key = "fid[digits-net-v1]"
    assert fid[0.0][key] < 1e-6 and fid[0.0]["precision[digits-net-v1]"] == 1.0
    assert fid[0.0][key] < fid[0.1][key] < fid[0.3][key]
    assert fid[0.1]["kid[digits-net-v1]"] < fid[0.3]["kid[digits-net-v1]"]
    assert fid[0.3]["precision[digits-net-v1]"] < 0.9
    # Two halves of one data set are close; a wrong data set is far.
    a, b = images[::2], images[1::2]
    assert image_metrics(a, b, net)[key] < 0.2 * image_metrics(a, np.zeros_like(b) + 0.5, net)[key]


def test_frechet_and_kernel_distance_formulas():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4000, 3))
    y = rng.normal(size=(4000, 3)) * 2.0 + 1.0  # N(1, 4 I): FID = 3 * 1 + 3 * (1 + 4 - 2 * 2) = 6
    assert frechet_distance(x, y) == pytest.approx(6.0, rel=0.05)
    same, _ = kernel_distance(x, rng.normal(size=(4000, 3)))
    far, _ = kernel_distance(x, y)
    assert abs(same) < 0.01 < far
    with pytest.raises(ValueError, match="same D"):
        frechet_distance(x, y[:, :2])


def test_psnr_ssim_and_a_pluggable_extractor():
    images, labels = _images("digits", "test")
    noisy = np.clip(images + 0.1 * np.random.default_rng(0).normal(size=images.shape), 0, 1)
    assert ssim(images, images) == pytest.approx(1.0, abs=1e-5)
    noisier = np.clip(images + 0.3 * np.random.default_rng(1).normal(size=images.shape), 0, 1)
    assert 0.0 < ssim(images, noisier) < ssim(images, noisy) < 0.99
    mse = ((images - noisy) ** 2).reshape(len(images), -1).mean(1)
    assert psnr(images, noisy) == pytest.approx(np.mean(10 * np.log10(1.0 / mse)), rel=1e-4)
    own = FeatureNet(name="pixels", features=lambda x: np.asarray(x).reshape(len(x), -1))
    out = image_metrics(images, images, own)
    assert out["fid[pixels]"] < 1e-6 and "class_accuracy[pixels]" not in out
    with pytest.raises(ValueError, match="not a classifier"):
        class_accuracy(images, labels, own)
    with pytest.raises(ValueError, match="no shipped feature net"):
        feature_net("cifar")
