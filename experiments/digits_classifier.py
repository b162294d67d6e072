"""The feature network of the digits image metrics: a small CNN classifier trained on the seeded
80% "train" split of scikit-learn's 8x8 digits with the same core as the generative models.

    jaxsynth train --config experiments/digits_classifier.py --workdir runs/digits_net
    python tools/export_feature_net.py --workdir runs/digits_net --dataset digits

The export measures accuracy on the 20% "test" split and writes the weights that ship in
``jaxsynth/eval/weights/``.
"""

import ml_collections


def get_config(arg: str | None = None) -> ml_collections.ConfigDict:
    c = ml_collections.ConfigDict()
    c.seed = 0
    c.smoke = arg == "smoke"
    c.data = ml_collections.ConfigDict(
        dict(source="embedded", name="digits", key="image", scale="none", split="train"))
    c.model = ml_collections.ConfigDict(
        dict(name="classifier", channels=(32, 64), feature_dim=64, num_classes=10))
    c.objective = ml_collections.ConfigDict(dict(name="classification", label_key="label"))
    c.train = ml_collections.ConfigDict(
        dict(steps=1500, batch_size=64, learning_rate=2e-3, warmup_steps=100, grad_clip_norm=1.0,
             weight_decay=1e-4, ema_decay=0.99, log_every=100, checkpoint_every=500, num_devices=0))
    if c.smoke:
        c.model.channels = (8,)
        c.model.feature_dim = 8
        c.train.steps = 1
        c.train.batch_size = 8
        c.train.log_every = 1
    return c
