import pytest

from helpers import DIGITS
from jaxsynth.config import apply_overrides, load_config, validate


def test_overrides_parse_types():
    c = load_config(DIGITS)
    apply_overrides(c, ["--config.train.steps=7", "--config.train.learning_rate=1e-4",
                        "--config.model.channel_mults=(1,2,2)", "--config.objective.schedule=linear"])
    assert c.train.steps == 7 and c.train.learning_rate == 1e-4
    assert c.model.channel_mults == (1, 2, 2) and c.objective.schedule == "linear"


def test_unknown_field_names_the_field_and_the_alternatives():
    c = load_config(DIGITS)
    with pytest.raises(ValueError, match=r"unknown config field 'train.stepz'.*'steps'"):
        apply_overrides(c, ["--config.train.stepz=5"])
    with pytest.raises(ValueError, match="unknown config field 'trian.steps'"):
        apply_overrides(c, ["--config.trian.steps=5"])


def test_wrong_type_and_bad_values():
    c = load_config(DIGITS)
    with pytest.raises(ValueError, match="'train.steps' holds a int"):
        apply_overrides(c, ["--config.train.steps=many"])
    apply_overrides(c, ["--config.train.batch_size=0"])
    with pytest.raises(ValueError, match="train.batch_size must be > 0"):
        validate(c)


def test_missing_file_and_smoke_variant():
    with pytest.raises(ValueError, match="does not exist"):
        load_config("experiments/nope.py")
    assert load_config(DIGITS + ":smoke").smoke is True
