"""Small generated tables shared by the tabular tests."""

import numpy as np
import pandas as pd


def mixed_frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """Every column kind, with missing values: a bimodal float, an int, a nullable int with NaN,
    a float with NaN, strings with None, booleans, day-resolution dates and a pandas category."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "x": np.concatenate([rng.normal(-5, 1, n // 2), rng.normal(10, 2, n - n // 2)]),
        "age": rng.integers(18, 90, n),
        "kids": pd.array(np.where(rng.random(n) < 0.1, None, rng.integers(0, 4, n)), dtype="Int64"),
        "income": np.where(rng.random(n) < 0.2, np.nan, rng.lognormal(10, 1, n)),
        "city": rng.choice(np.array(["a", "b", "c", None], dtype=object), n),
        "member": rng.random(n) < 0.3,
        "joined": pd.to_datetime("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, n), unit="D"),
        "tier": pd.Categorical(rng.choice(["gold", "silver"], n)),
    })


def dependent_frame(n: int = 1000, seed: int = 0) -> pd.DataFrame:
    """``value`` depends strongly on ``group`` (means -5, 0, 5), so conditioning is visible."""
    rng = np.random.default_rng(seed)
    group = rng.choice(["low", "mid", "high"], n, p=[0.2, 0.5, 0.3])
    centre = np.select([group == "low", group == "mid"], [-5.0, 0.0], 5.0)
    return pd.DataFrame({"group": group, "value": centre + rng.normal(0, 0.7, n),
                         "flag": rng.random(n) < 0.4})
