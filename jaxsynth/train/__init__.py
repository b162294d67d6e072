"""The training core: state, sharded jitted step, loop, checkpoints, RNG streams."""

from jaxsynth.train.checkpoint import Checkpointer
from jaxsynth.train.experiment import Experiment
from jaxsynth.train.loop import NonFiniteLossError, load_experiment, sample_from_workdir, train
from jaxsynth.train.sharding import make_mesh
from jaxsynth.train.state import TrainState, make_optimizer
from jaxsynth.train.step import make_train_step

__all__ = [
    "Checkpointer",
    "Experiment",
    "NonFiniteLossError",
    "TrainState",
    "load_experiment",
    "make_mesh",
    "make_optimizer",
    "make_train_step",
    "sample_from_workdir",
    "train",
]
