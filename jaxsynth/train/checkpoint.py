"""Checkpoints through ``orbax.checkpoint.CheckpointManager``.

Each checkpoint step holds three items: ``state`` (the :class:`TrainState` pytree), ``data`` (the
input iterator's position, JSON) and ``meta`` (the config and library version, JSON). Failures to
read are turned into one-line ``ValueError``s that name the directory and what to do; nothing is
ever deleted on a failed read.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp

ITEMS = ("state", "data", "meta")


class Checkpointer:
    """Save and restore training checkpoints under ``directory`` (keeps the newest few)."""

    def __init__(self, directory: str | os.PathLike, *, max_to_keep: int = 3,
                 read_only: bool = False):
        self.directory = os.path.abspath(os.fspath(directory))
        options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=not read_only, read_only=read_only,
            enable_async_checkpointing=True,
        )
        self._manager = ocp.CheckpointManager(self.directory, options=options, item_names=ITEMS)

    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def save(self, step: int, state: Any, data_state: dict, meta: dict) -> None:
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state),
                data=ocp.args.JsonSave(data_state),
                meta=ocp.args.JsonSave(meta),
            ),
            force=True,
        )

    def read_meta(self, step: int) -> dict:
        try:
            out = self._manager.restore(step, args=ocp.args.Composite(meta=ocp.args.JsonRestore()))
        except Exception as e:  # orbax raises many kinds; the user needs one clear message
            raise self._unreadable(step, e) from None
        if not isinstance(out.meta, dict):
            raise self._unreadable(step, "its meta item is not a JSON object")
        return out.meta

    def restore(self, step: int, abstract_state: Any) -> tuple[Any, dict, dict]:
        """Restore ``(state, data_state, meta)``; ``abstract_state`` gives shapes and shardings."""
        try:
            out = self._manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(abstract_state),
                    data=ocp.args.JsonRestore(),
                    meta=ocp.args.JsonRestore(),
                ),
            )
        except Exception as e:
            raise self._unreadable(step, e) from None
        return out.state, out.data, out.meta

    def _unreadable(self, step: int, cause: Any) -> ValueError:
        reason = " ".join(str(cause).split())[:300]
        return ValueError(
            f"checkpoint {self.directory}/{step} is unreadable ({type(cause).__name__}: {reason}); "
            "it was left in place: move that step directory aside to resume from an earlier one, "
            "or use a new --workdir"
        )

    def wait(self) -> None:
        self._manager.wait_until_finished()

    def close(self) -> None:
        self._manager.wait_until_finished()
        self._manager.close()


def abstract_like(tree: Any, sharding: jax.sharding.Sharding) -> Any:
    """``ShapeDtypeStruct``s of ``tree`` placed with ``sharding`` (restore target)."""
    return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree)
