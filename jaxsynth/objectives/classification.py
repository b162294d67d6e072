"""Classification: softmax cross-entropy on labelled data. It trains the feature networks behind
the image metrics with the same core as every generative model."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax


@dataclasses.dataclass(frozen=True)
class Classification:
    """``loss(model, batch, rng)``: mean cross-entropy of ``model(batch[data_key])`` (logits
    ``[batch, classes]``) against ``batch[label_key]`` (int ``[batch]``); metrics add accuracy."""

    data_key: str = "image"
    label_key: str = "label"

    def loss(self, model, batch: dict[str, jax.Array], rng: jax.Array):
        del rng
        logits = model(batch[self.data_key])
        labels = jnp.asarray(batch[self.label_key], jnp.int32).reshape(logits.shape[0])
        loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
        accuracy = jnp.mean(jnp.argmax(logits, axis=-1) == labels)
        return loss, {"loss": loss, "accuracy": accuracy}


def build_classification(data_key: str = "image", label_key: str = "label", **unknown: Any) -> Classification:
    if unknown:
        raise ValueError(f"objective 'classification' has no setting(s) {sorted(unknown)}; known: "
                         "data_key, label_key")
    return Classification(data_key=data_key, label_key=label_key)
