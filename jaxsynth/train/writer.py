"""Scalar logging without TensorFlow: JSON lines plus TensorBoard event files (tensorboardX)."""

from __future__ import annotations

import json
import os
from typing import Any


class MetricWriter:
    """Append ``{"step": s, name: value, ...}`` lines to ``metrics.jsonl`` and TensorBoard events."""

    def __init__(self, workdir: str, *, tensorboard: bool = True, enabled: bool = True):
        """``enabled=False`` makes every call a no-op (non-chief processes of a multi-host run)."""
        self.path = os.path.join(workdir, "metrics.jsonl")
        self._file = None
        self._tb = None
        if not enabled:
            return
        os.makedirs(workdir, exist_ok=True)
        self._file = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        if tensorboard:
            from tensorboardX import SummaryWriter

            self._tb = SummaryWriter(os.path.join(workdir, "tensorboard"))

    def write_scalars(self, step: int, scalars: dict[str, Any]) -> None:
        if self._file is None:
            return
        values = {k: float(v) for k, v in scalars.items()}
        self._file.write(json.dumps({"step": int(step), **values}) + "\n")
        self._file.flush()
        if self._tb is not None:
            for k, v in values.items():
                self._tb.add_scalar(k, v, int(step))

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
        if self._tb is not None:
            self._tb.close()
