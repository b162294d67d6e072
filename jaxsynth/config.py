"""Experiment configs: ``ml_collections.ConfigDict`` files with a ``get_config(arg=None)``, and
command-line overrides of the form ``--config.train.steps=200``."""

from __future__ import annotations

import ast
import importlib.util
import os
from collections.abc import Sequence

import ml_collections

REQUIRED = {
    "data": ("source",),
    "model": ("name",),
    "objective": ("name",),
    "train": ("steps", "batch_size", "learning_rate"),
}


def load_config(spec: str) -> ml_collections.ConfigDict:
    """Load ``path/to/config.py`` or ``path/to/config.py:arg`` (``get_config(arg)`` is called)."""
    path, _, arg = spec.partition(":")
    if not os.path.exists(path):
        raise ValueError(f"config file {path!r} does not exist")
    module_spec = importlib.util.spec_from_file_location("_jaxsynth_config", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not hasattr(module, "get_config"):
        raise ValueError(f"config file {path!r} defines no get_config()")
    config = module.get_config(arg) if arg else module.get_config()
    if not isinstance(config, ml_collections.ConfigDict):
        raise ValueError(f"{path}: get_config() must return an ml_collections.ConfigDict")
    validate(config)
    return config


def _parse_value(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word is a string


def apply_overrides(config: ml_collections.ConfigDict, overrides: Sequence[str]) -> None:
    """Apply ``--config.a.b=value`` strings in place (check the result with :func:`validate`).

    >>> c = ml_collections.ConfigDict({"train": {"steps": 10}})
    >>> apply_overrides(c, ["--config.train.steps=20"]); c.train.steps
    20
    >>> apply_overrides(c, ["--config.train.stepz=20"])
    Traceback (most recent call last):
    ...
    ValueError: unknown config field 'train.stepz'; fields of 'train': ['steps']
    """
    for item in overrides:
        body = item[2:] if item.startswith("--") else item
        if not body.startswith("config.") or "=" not in body:
            raise ValueError(f"cannot read override {item!r}; write it as --config.FIELD=VALUE")
        dotted, _, text = body[len("config."):].partition("=")
        *parents, leaf = dotted.split(".")
        node = config
        for depth, name in enumerate(parents):
            if not isinstance(node, ml_collections.ConfigDict) or name not in node:
                where = ".".join(parents[:depth]) or "config"
                known = sorted(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
                raise ValueError(f"unknown config field {dotted!r}; fields of {where!r}: {known}")
            node = node[name]
        if not isinstance(node, ml_collections.ConfigDict) or leaf not in node:
            where = ".".join(parents) or "config"
            known = sorted(node.keys()) if isinstance(node, ml_collections.ConfigDict) else []
            raise ValueError(f"unknown config field {dotted!r}; fields of {where!r}: {known}")
        value = _parse_value(text)
        old = node[leaf]
        if isinstance(old, tuple) and isinstance(value, list | int):
            value = tuple(value) if isinstance(value, list) else (value,)
        try:
            node[leaf] = value
        except TypeError:
            raise ValueError(
                f"config field {dotted!r} holds a {type(old).__name__} ({old!r}); "
                f"cannot set it to {text!r}"
            ) from None


def validate(config: ml_collections.ConfigDict) -> None:
    """Check that the fields every experiment needs are present and sane."""
    for section, fields in REQUIRED.items():
        if section not in config:
            raise ValueError(f"config has no section {section!r}; every experiment needs it")
        for f in fields:
            if f not in config[section]:
                raise ValueError(f"config field '{section}.{f}' is missing")
    t = config.train
    if int(t.steps) < 0:
        raise ValueError(f"train.steps must be >= 0, got {t.steps}")
    if int(t.batch_size) <= 0:
        raise ValueError(f"train.batch_size must be > 0, got {t.batch_size}")
    for name in ("log_every", "checkpoint_every"):
        if name in t and int(t[name]) <= 0:
            raise ValueError(f"train.{name} must be > 0, got {t[name]}")
