import jax
import numpy as np
import pandas as pd
import pytest

from jaxsynth.data import ArraySource, BatchIterator, embedded_source, table_source
from jaxsynth.train.sharding import make_mesh


def test_array_source_validates_lengths_and_emptiness():
    with pytest.raises(ValueError, match="'y' has 2 records but 'x' has 3"):
        ArraySource({"x": np.zeros(3), "y": np.zeros(2)})
    with pytest.raises(ValueError, match="empty"):
        ArraySource({"x": np.zeros((0, 2))})


def test_digits_embedded():
    src = embedded_source("digits")
    assert len(src) == 1797
    rec = src[0]
    assert rec["image"].shape == (8, 8, 1) and rec["image"].dtype == np.float32
    assert 0.0 <= src.arrays["image"].min() and src.arrays["image"].max() <= 1.0
    with pytest.raises(ValueError, match="available"):
        embedded_source("imagenet")


def test_batches_are_global_sharded_arrays_and_cover_each_epoch():
    src = ArraySource({"x": np.arange(12, dtype=np.float32)})
    it = BatchIterator(src, global_batch_size=4, mesh=make_mesh(1), seed=0)
    batches = [next(it)["x"] for _ in range(6)]
    assert isinstance(batches[0], jax.Array) and batches[0].shape == (4,)
    first, second = np.concatenate(batches[:3]), np.concatenate(batches[3:])
    assert sorted(first.tolist()) == list(range(12)) == sorted(second.tolist())
    assert first.tolist() != second.tolist()  # reshuffled every epoch


def test_iterator_state_restores_position():
    src = ArraySource({"x": np.arange(20)})
    a = BatchIterator(src, global_batch_size=4, mesh=make_mesh(1), seed=1)
    for _ in range(7):
        next(a)
    state = a.get_state()
    expected = [np.asarray(next(a)["x"]) for _ in range(3)]
    b = BatchIterator(src, global_batch_size=4, mesh=make_mesh(1), seed=1)
    b.set_state(state)
    got = [np.asarray(next(b)["x"]) for _ in range(3)]
    np.testing.assert_array_equal(np.stack(got), np.stack(expected))


def test_batch_size_errors_name_the_field():
    src = ArraySource({"x": np.arange(5)})
    with pytest.raises(ValueError, match="fewer than one batch"):
        BatchIterator(src, global_batch_size=8, mesh=make_mesh(1))
    with pytest.raises(ValueError, match="train.batch_size"):
        BatchIterator(src, global_batch_size=0, mesh=make_mesh(1))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_table_source_reads_files(tmp_path, suffix):
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [4, 5, 6]})
    path = tmp_path / f"t{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)
    src = table_source(path)
    assert len(src) == 3 and src[1] == {"a": 2.0, "b": 5}
    with pytest.raises(ValueError, match=r"no column\(s\) \['c'\]"):
        table_source(path, columns=["c"])


def test_table_source_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        table_source(tmp_path / "missing.csv")
    (tmp_path / "x.txt").write_text("1")
    with pytest.raises(ValueError, match="unsupported suffix"):
        table_source(tmp_path / "x.txt")


def test_tfds_source_without_tfds_says_how_to_install(monkeypatch):
    import sys

    from jaxsynth.data import tfds_source

    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)  # import now fails
    with pytest.raises(ValueError, match=r"pip install 'jaxsynth\[tfds\]'"):
        tfds_source("mnist")
