"""End-to-end training-core tests on the tiny smoke variant of the digits config."""

import glob
import os
import signal

import jax
import numpy as np
import pytest

from helpers import smoke_config
from jaxsynth import cli
from jaxsynth.data import ArraySource, embedded_source
from jaxsynth.train import Experiment, NonFiniteLossError, load_experiment, sample_from_workdir, train

STEPS4 = ("--config.train.steps=4", "--config.train.checkpoint_every=2", "--config.train.log_every=2")


def params_of(workdir):
    _, state = load_experiment(workdir)
    return jax.device_get(state)


def test_resume_is_bitwise_exact(tmp_path):
    full, half = str(tmp_path / "full"), str(tmp_path / "half")
    train(smoke_config(*STEPS4), full, progress=False)
    train(smoke_config(*STEPS4, "--config.train.steps=2"), half, progress=False)
    summary = train(smoke_config(*STEPS4), half, progress=False)  # resume 2 -> 4
    assert summary["resumed_from"] == 2 and summary["step"] == 4
    a, b = params_of(full), params_of(half)
    assert int(a.step) == int(b.step) == 4
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(x, y)
    kw = dict(seed=5, sampler="ddim", steps=3)
    np.testing.assert_array_equal(sample_from_workdir(full, 3, **kw),
                                  sample_from_workdir(half, 3, **kw))
    # Training changed the parameters (so the comparison above is not vacuous).
    fresh = jax.device_get(Experiment(smoke_config()).init_state())
    assert not np.array_equal(jax.tree.leaves(fresh.params)[0], jax.tree.leaves(a.params)[0])


def test_running_again_at_the_requested_step_does_nothing(tmp_path):
    workdir = str(tmp_path / "w")
    train(smoke_config(), workdir, progress=False)
    summary = train(smoke_config(), workdir, progress=False)
    assert summary["resumed_from"] == summary["step"] == 1 and summary["steps_per_second"] is None


def test_nonfinite_loss_stops_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    workdir = str(tmp_path / "w")
    train(smoke_config(*STEPS4, "--config.train.steps=2"), workdir, progress=False)
    images = embedded_source("digits").arrays["image"].copy()
    images[:] = np.nan
    monkeypatch.setattr("jaxsynth.train.experiment.build_source",
                        lambda **kw: ArraySource({"image": images}))
    with pytest.raises(NonFiniteLossError, match=r"non-finite by step 4.*step 2"):
        train(smoke_config(*STEPS4), workdir, progress=False)
    monkeypatch.undo()
    steps = sorted(int(os.path.basename(p)) for p in glob.glob(f"{workdir}/checkpoints/[0-9]*"))
    assert steps == [2]
    state = params_of(workdir)
    assert int(state.step) == 2
    assert all(np.isfinite(x).all() for x in jax.tree.leaves(state.params))


def test_sigterm_saves_and_stops_cleanly(tmp_path, monkeypatch):
    workdir = str(tmp_path / "w")
    original = Experiment.train_step

    def train_step_that_is_preempted(self):
        step = original(self)
        calls = {"n": 0}

        def wrapped(state, batch):
            calls["n"] += 1
            if calls["n"] == 3:
                os.kill(os.getpid(), signal.SIGTERM)
            return step(state, batch)

        return wrapped

    monkeypatch.setattr(Experiment, "train_step", train_step_that_is_preempted)
    summary = train(smoke_config("--config.train.steps=50"), workdir, progress=False)
    assert summary["stopped_by"] == "SIGTERM" and summary["step"] == 3
    assert int(params_of(workdir).step) == 3


def test_workdir_from_another_model_is_refused(tmp_path):
    workdir = str(tmp_path / "w")
    train(smoke_config(), workdir, progress=False)
    before = sorted(os.listdir(f"{workdir}/checkpoints"))
    with pytest.raises(ValueError, match=r"different model \(model.channels: 8 there, 4 here\)"):
        train(smoke_config("--config.model.channels=4", "--config.train.steps=2"), workdir,
              progress=False)
    assert sorted(os.listdir(f"{workdir}/checkpoints")) == before


def test_corrupted_checkpoint_gives_clear_error_and_is_kept(tmp_path, capsys):
    workdir = str(tmp_path / "w")
    train(smoke_config(), workdir, progress=False)
    files = [p for p in glob.glob(f"{workdir}/checkpoints/1/state/**", recursive=True)
             if os.path.isfile(p)]
    assert files
    for p in files:
        with open(p, "wb") as f:
            f.write(b"garbage")
    rc = cli.main(["sample", "--workdir", workdir, "-n", "2", "--out", str(tmp_path / "s.npz")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "unreadable" in err and "left in place" in err and len(err.splitlines()) == 1
    assert all(os.path.exists(p) for p in files)


def test_cli_errors_are_one_line(tmp_path, capsys):
    workdir = str(tmp_path / "w")
    cfg = os.path.join(os.path.dirname(__file__), "..", "experiments", "digits_ddpm.py")
    rc = cli.main(["train", "--config", cfg, "--workdir", workdir, "--config.train.stepz=3"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "unknown config field 'train.stepz'" in err and len(err.splitlines()) == 1
    assert not os.path.exists(f"{workdir}/checkpoints")
    rc = cli.main(["sample", "--workdir", workdir, "-n", "0", "--out", str(tmp_path / "s.npz")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "-n must be a positive number" in err and len(err.splitlines()) == 1
    rc = cli.main(["sample", "--workdir", workdir, "-n", "2", "--out", str(tmp_path / "s.npz")])
    assert rc == 2 and "holds no checkpoints" in capsys.readouterr().err


def test_cli_train_then_sample_writes_npz_and_png(tmp_path, capsys):
    workdir = str(tmp_path / "w")
    cfg = os.path.join(os.path.dirname(__file__), "..", "experiments", "digits_ddpm.py")
    assert cli.main(["train", "--config", cfg + ":smoke", "--workdir", workdir, "--no-progress",
                     "--config.model.channel_mults=(1,)", "--config.model.attn_resolutions=()",
                     "--config.train.steps=2"]) == 0
    assert os.path.exists(f"{workdir}/metrics.json") and os.path.exists(f"{workdir}/metrics.jsonl")
    out = str(tmp_path / "s.npz")
    assert cli.main(["sample", "--workdir", workdir, "-n", "5", "--seed", "1", "--out", out,
                     "--sampler", "ddim", "--steps", "4", "--png", "--batch-size", "3"]) == 0
    images = np.load(out)["images"]
    assert images.shape == (5, 8, 8, 1) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert os.path.getsize(str(tmp_path / "s.png")) > 100
