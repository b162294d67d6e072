"""Write generated rows to sharded Parquet/CSV files with a manifest; resume what is missing.

The output directory holds ``part-00000-of-00016.parquet`` ... and ``manifest.json`` with, per
shard, its file name, row count and SHA-256. Shard ``i`` is generated chunk by chunk with seeds
derived from ``(seed, i, chunk)``, so it is the same whichever run writes it: an interrupted job,
run again with the same arguments, keeps the shards whose checksums match and writes the rest.
Memory stays flat: at most one chunk of rows is held at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FORMATS = ("parquet", "csv")


def chunk_seed(seed: int, shard: int, chunk: int) -> int:
    """A well-mixed 32-bit seed for one chunk of one shard."""
    return int(np.random.SeedSequence([seed, shard, chunk]).generate_state(1)[0])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json(path: Path, obj: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)


def write_shards(
    sample: Callable[[int, int], pd.DataFrame],
    n: int,
    out_dir: str | os.PathLike,
    *,
    shards: int = 1,
    fmt: str = "parquet",
    seed: int = 0,
    chunk_rows: int = 65_536,
    source: dict[str, Any] | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Write ``n`` rows from ``sample(rows, seed) -> DataFrame`` into ``shards`` files.

    ``source`` (e.g. the model's identity) is stored in the manifest; a manifest in ``out_dir``
    from a different request (other ``n``, ``shards``, ``fmt``, ``seed`` or ``source``) raises
    ``ValueError`` rather than mixing outputs. Returns the manifest.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if not isinstance(shards, (int, np.integer)) or shards < 1:
        raise ValueError(f"shards must be a positive integer, got {shards!r}")
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r} is not supported; choose one of {FORMATS}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    request = {"rows": int(n), "shards": int(shards), "format": fmt, "seed": int(seed),
               "chunk_rows": int(chunk_rows), "source": source or {}}
    manifest_path = out / "manifest.json"
    done: dict[str, dict[str, Any]] = {}
    if manifest_path.exists():
        old = json.loads(manifest_path.read_text())
        if {k: old.get(k) for k in request} != request:
            theirs = {k: old.get(k) for k in request if old.get(k) != request[k]}
            raise ValueError(f"{out} holds output of another request (there: {theirs}); choose an "
                             "empty directory or repeat that request to resume it")
        done = {s["file"]: s for s in old.get("files", [])}
    sizes = [n // shards + (i < n % shards) for i in range(shards)]
    records: dict[str, dict[str, Any]] = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=n, desc="sample", unit="row")
    for i, rows in enumerate(sizes):
        name = f"part-{i:05d}-of-{shards:05d}.{fmt}"
        path = out / name
        if name in done and path.exists() and _sha256(path) == done[name]["sha256"]:
            records[name] = done[name]
            if bar is not None:
                bar.update(rows)
            continue
        tmp = out / (name + ".partial")
        _write_one(sample, rows, tmp, fmt, seed, i, chunk_rows, bar)
        os.replace(tmp, path)
        records[name] = {"file": name, "rows": rows, "sha256": _sha256(path)}
        _write_json(manifest_path, {**request, "files": list(records.values()), "complete": False})
    if bar is not None:
        bar.close()
    manifest = {**request, "files": list(records.values()), "complete": True}
    _write_json(manifest_path, manifest)
    return manifest


def _write_one(sample, rows, path: Path, fmt: str, seed: int, shard: int, chunk_rows: int, bar):
    import pyarrow as pa
    import pyarrow.parquet as pq
    writer = None
    starts = range(0, max(rows, 1), chunk_rows)
    with open(path, "wb") as f:
        for c, start in enumerate(starts):
            frame = sample(min(chunk_rows, rows - start), chunk_seed(seed, shard, c))
            if fmt == "csv":
                frame.to_csv(f, header=(c == 0), index=False)
            else:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(f, table.schema)
                writer.write_table(table)
            if bar is not None:
                bar.update(len(frame))
        if writer is not None:
            writer.close()


def read_shards(directory: str | os.PathLike) -> pd.DataFrame:
    """All rows of a sharded output (in shard order), checked against the manifest."""
    directory = Path(directory)
    manifest_path = directory / "manifest.json"
    if not manifest_path.exists():
        raise ValueError(f"{directory} has no manifest.json; it is not a jaxsynth sharded output")
    manifest = json.loads(manifest_path.read_text())
    if not manifest.get("complete"):
        raise ValueError(f"{directory} is incomplete; rerun the same sample command to finish it")
    frames = []
    for s in manifest["files"]:
        path = directory / s["file"]
        frame = pd.read_parquet(path) if manifest["format"] == "parquet" else pd.read_csv(path)
        if len(frame) != s["rows"]:
            raise ValueError(f"{path} has {len(frame)} rows, the manifest says {s['rows']}")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
