"""``jaxsynth`` command line: thin parsing around library calls.

    jaxsynth train --config experiments/digits_ddpm.py --workdir DIR [--config.train.steps=N ...]
    jaxsynth sample --workdir DIR -n N --out FILE.npz [--seed S] [--sampler ddim] [--steps K] [--png]

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
    s.add_argument("--sampler", choices=("ddpm", "ddim"), default="ddim")
    s.add_argument("--steps", type=int, default=None, help="model evaluations (default: all)")
    s.add_argument("--eta", type=float, default=0.0, help="DDIM noise (0 deterministic)")
    s.add_argument("--batch-size", type=int, default=256)
    s.add_argument("--no-ema", action="store_true", help="use raw instead of EMA parameters")
    s.add_argument("--png", action="store_true", help="also write a PNG grid beside --out")
    return p


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
    )
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    np.savez(args.out, images=images)
    msg = f"wrote {len(images)} samples of shape {images.shape[1:]} to {args.out}"
    if args.png:
        png = os.path.splitext(args.out)[0] + ".png"
        save_grid(images, png)
        msg += f" and a grid to {png}"
    print(msg)
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
        return _train(args, overrides) if args.command == "train" else _sample(args)
    except (ValueError, NonFiniteLossError) as e:
        print(f"jaxsynth {args.command}: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1


if __name__ == "__main__":
    sys.exit(main())
