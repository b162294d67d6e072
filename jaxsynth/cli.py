"""``jaxsynth`` command line: thin parsing around library calls.

    jaxsynth train --config experiments/digits_ddpm.py --workdir DIR [--config.train.steps=N ...]
    jaxsynth sample --workdir DIR -n N --out FILE.npz [--seed S] [--sampler ddim|dpmpp_2m|ddpm]
        [--steps K] [--label K --guidance W] [--png]
    jaxsynth tabular fit DATA.csv|.parquet --model tabddpm|ctgan|tvae --out MODEL_DIR [--epochs E]
    jaxsynth tabular sample MODEL_DIR -n N --out DIR [--shards K] [--format parquet|csv]
    jaxsynth interpolate --workdir DIR --out STRIP.png [--steps 10] [--label K]
    jaxsynth evaluate --real TRAIN.csv --synthetic FILE|SHARD_DIR [--holdout TEST.csv]
        [--target COLUMN] [--quasi-identifiers a,b] [--model MODEL_DIR] --out REPORT.html|.json

Errors a user can fix (bad config, bad workdir, bad arguments) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="jaxsynth", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train or resume an experiment config in a workdir")
    t.add_argument("--config", required=True, help="experiments/NAME.py[:arg]")
    t.add_argument("--workdir", required=True, help="checkpoints, metrics and samples go here")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    t.add_argument("--distributed", action="store_true",
                   help="multi-host run: call jax.distributed.initialize() first (pods, SLURM)")

    s = sub.add_parser("sample", help="draw samples from the latest checkpoint in a workdir")
    s.add_argument("--workdir", required=True)
    s.add_argument("-n", "--num-samples", type=int, required=True)
    s.add_argument("--out", required=True, help="output .npz (array 'images': [N, H, W, C])")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--sampler", choices=("ddpm", "ddim", "dpmpp_2m"), default="ddim")
    s.add_argument("--steps", type=int, default=None, help="model evaluations (default: all)")
    s.add_argument("--eta", type=float, default=0.0,
                   help="DDIM / DPM-Solver++ noise (0: deterministic; dpmpp_2m with 1: the SDE solver)")
    s.add_argument("--batch-size", type=int, default=256)
    s.add_argument("--no-ema", action="store_true", help="use raw instead of EMA parameters")
    s.add_argument("--png", action="store_true", help="also write a PNG grid beside --out")
    s.add_argument("--label", type=int, default=None,
                   help="class-conditional models: draw every sample of this class")
    s.add_argument("--guidance", type=float, default=1.0,
                   help="classifier-free guidance with --label (0 unconditional, 1 conditional, >1 stricter)")

    it = sub.add_parser("interpolate", help="walk a VAE's latent space between two samples (PNG strip)")
    it.add_argument("--workdir", required=True)
    it.add_argument("--out", required=True, help="output .png (one row of --steps images)")
    it.add_argument("--steps", type=int, default=10)
    it.add_argument("--seed", type=int, default=0)
    it.add_argument("--label", type=int, default=None, help="conditional VAEs: the class")

    tab = sub.add_parser("tabular", help="fit a table synthesizer or sample sharded rows from one")
    tsub = tab.add_subparsers(dest="tabular_command", required=True)
    f = tsub.add_parser("fit", help="fit CTGAN, TVAE or TabDDPM to a CSV/Parquet table")
    f.add_argument("data", help="a .csv or .parquet file")
    f.add_argument("--model", choices=("tabddpm", "ctgan", "tvae"), default="tabddpm")
    f.add_argument("--out", required=True, help="directory for the fitted model")
    f.add_argument("--epochs", type=int, default=None)
    f.add_argument("--batch-size", type=int, default=None)
    f.add_argument("--learning-rate", type=float, default=None)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--metadata", action="append", default=[], metavar="COLUMN=KIND",
                   help="override a detected column kind (repeatable)")
    f.add_argument("--no-progress", action="store_true")
    g = tsub.add_parser("sample", help="write N rows from a fitted model to sharded files")
    g.add_argument("model_dir")
    g.add_argument("-n", "--num-rows", type=int, required=True)
    g.add_argument("--out", required=True, help="output directory (shards + manifest.json)")
    g.add_argument("--shards", type=int, default=1)
    g.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--condition", action="append", default=[], metavar="COLUMN=VALUE",
                   help="fix a categorical column (repeatable)")
    g.add_argument("--chunk-rows", type=int, default=65_536)
    g.add_argument("--no-progress", action="store_true")

    e = sub.add_parser("evaluate", help="score synthetic rows against real ones (HTML or JSON report)")
    e.add_argument("--real", required=True, help="the training rows (.csv or .parquet)")
    e.add_argument("--synthetic", required=True, help="a .csv/.parquet file or a shard directory")
    e.add_argument("--holdout", default=None, help="real rows not trained on (baselines, TSTR)")
    e.add_argument("--target", default=None, help="column to predict for TSTR/TRTR")
    e.add_argument("--out", required=True, help="report path: .html (page with plots) or .json")
    e.add_argument("--max-rows", type=int, default=None,
                   help="subsample tables for resemblance/utility (distances use all rows)")
    e.add_argument("--quasi-identifiers", default=None,
                   help="comma-separated columns an attacker may know (k-anonymity figures)")
    e.add_argument("--text-columns", default=None,
                   help="comma-separated free-text columns (default: detected)")
    e.add_argument("--model", default=None,
                   help="the synthesizer directory, to show its differential-privacy budget")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return p


def _evaluate(args) -> int:
    import json

    from jaxsynth.data.shards import read_shards
    from jaxsynth.eval import evaluate

    kind = os.path.splitext(args.out)[1].lower()
    if kind not in (".html", ".json"):
        raise ValueError(f"--out {args.out!r}: the report is written as .html or .json")
    budget = None
    if args.model is not None:
        meta_file = os.path.join(args.model, "synthesizer.json")
        if not os.path.exists(meta_file):
            raise ValueError(f"--model {args.model!r} is not a saved synthesizer (no synthesizer.json)")
        with open(meta_file) as f:
            budget = (json.load(f).get("privacy") or {}).get("report")
    synthetic = (read_shards(args.synthetic) if os.path.isdir(args.synthetic)
                 else _read_table(args.synthetic))
    holdout = _read_table(args.holdout) if args.holdout else None

    def columns(text):
        return [c.strip() for c in text.split(",") if c.strip()] if text else None

    report = evaluate(_read_table(args.real), synthetic, holdout, args.target,
                      quasi_identifiers=columns(args.quasi_identifiers),
                      text_columns=columns(args.text_columns), privacy_budget=budget,
                      max_rows=args.max_rows, seed=args.seed, progress=not args.no_progress)
    (report.to_html if kind == ".html" else report.to_json)(args.out)
    for name, value in report.scores.items():
        print(f"{name:50s} {value:.4f}")
    print(f"wrote {args.out}")
    return 0


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"{what} {item!r} must look like COLUMN=VALUE")
        k, v = item.split("=", 1)
        out[k] = v
    return out


def _read_table(path: str):
    import pandas as pd

    if not os.path.exists(path):
        raise ValueError(f"no such file: {path}")
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    if path.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path)
    raise ValueError(f"{path}: expected a .csv or .parquet file")


def _tabular(args) -> int:
    from jaxsynth.data.shards import write_shards
    from jaxsynth.synth import TabularSynthesizer

    if args.tabular_command == "fit":
        df = _read_table(args.data)
        synth = TabularSynthesizer(
            args.model, seed=args.seed, epochs=args.epochs, batch_size=args.batch_size,
            learning_rate=args.learning_rate, metadata=_pairs(args.metadata, "--metadata"),
            progress=not args.no_progress,
        ).fit(df)
        synth.save(args.out)
        last = {k: round(v, 4) for k, v in synth.history[-1].items() if k != "epoch"}
        print(f"fitted {args.model} on {len(df)} rows x {df.shape[1]} columns in "
              f"{synth.fit_seconds:.1f} s (+{synth.compile_seconds:.1f} s compile); last epoch {last}; "
              f"saved to {args.out}")
        return 0
    synth = TabularSynthesizer.load(args.model_dir)
    conditions = {}
    for column, text in _pairs(args.condition, "--condition").items():
        conditions[column] = synth.category_from_text(column, text)
    source = {"model_dir": os.path.abspath(args.model_dir), "conditions": _pairs(args.condition, "")}
    manifest = write_shards(
        lambda rows, seed: synth.sample(rows, conditions or None, seed=seed), args.num_rows,
        args.out, shards=args.shards, fmt=args.format, seed=args.seed, chunk_rows=args.chunk_rows,
        source=source, progress=not args.no_progress,
    )
    print(f"wrote {manifest['rows']} rows in {len(manifest['files'])} {args.format} shard(s) to "
          f"{args.out} (manifest.json lists rows and checksums)")
    return 0


def _train(args, overrides) -> int:
    from jaxsynth.config import apply_overrides, load_config, validate
    from jaxsynth.train import train

    config = load_config(args.config)
    apply_overrides(config, overrides)
    validate(config)
    if args.distributed:
        import jax

        jax.distributed.initialize()
    summary = train(config, args.workdir, progress=not args.no_progress)
    sps = summary["steps_per_second"]
    print(
        f"trained to step {summary['step']} (from {summary['resumed_from']}); final loss "
        f"{summary['final_loss']:.4f}; {sps:.2f} steps/s" if sps else
        f"nothing to do: {args.workdir} is already at step {summary['step']}"
    )
    return 0


def _sample(args) -> int:
    import numpy as np

    from jaxsynth.train import sample_from_workdir
    from jaxsynth.utils.images import save_grid

    if args.num_samples <= 0:
        raise ValueError(f"-n must be a positive number of samples, got {args.num_samples}")
    if not args.out.endswith(".npz"):
        raise ValueError(f"--out {args.out!r} must end in .npz")
    images = sample_from_workdir(
        args.workdir, args.num_samples, seed=args.seed, sampler=args.sampler, steps=args.steps,
        eta=args.eta, batch_size=args.batch_size, use_ema=not args.no_ema, progress=True,
        label=args.label, guidance=args.guidance,
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    extra = {} if args.label is None else {"labels": np.full(len(images), args.label, np.int32)}
    np.savez(args.out, images=images, **extra)
    msg = f"wrote {len(images)} samples of shape {images.shape[1:]} to {args.out}"
    if args.png:
        png = os.path.splitext(args.out)[0] + ".png"
        save_grid(images, png)
        msg += f" and a grid to {png}"
    print(msg)
    return 0


def _interpolate(args) -> int:
    from jaxsynth.train.loop import interpolate_from_workdir
    from jaxsynth.utils.images import save_grid

    if not args.out.endswith(".png"):
        raise ValueError(f"--out {args.out!r} must end in .png")
    images = interpolate_from_workdir(args.workdir, args.steps, seed=args.seed, label=args.label)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    save_grid(images, args.out, cols=len(images))
    print(f"wrote a strip of {len(images)} images to {args.out}")
    return 0


def _enable_compilation_cache() -> None:
    """Keep compiled XLA programs on disk so a resumed run or a later ``sample`` skips most
    compilation. ``JAXSYNTH_COMPILATION_CACHE=""`` turns it off; any other value moves it."""
    path = os.environ.get(
        "JAXSYNTH_COMPILATION_CACHE", os.path.join(os.path.expanduser("~"), ".cache", "jaxsynth", "xla")
    )
    if path:
        import jax

        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args, rest = _parser().parse_known_args(argv)
    overrides = [a for a in rest if a.startswith("--config.")]
    unknown = [a for a in rest if not a.startswith("--config.")]
    if unknown or (overrides and args.command != "train"):
        _parser().error(f"unrecognized arguments: {' '.join(unknown or overrides)}")
    _enable_compilation_cache()
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.ERROR)  # orbax's info/warnings drown the progress bar
    from jaxsynth.train import NonFiniteLossError

    try:
        if args.command == "tabular":
            return _tabular(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "interpolate":
            return _interpolate(args)
        return _train(args, overrides) if args.command == "train" else _sample(args)
    except (ValueError, NonFiniteLossError) as e:
        print(f"jaxsynth {args.command}: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1


if __name__ == "__main__":
    sys.exit(main())
