"""``TableEncoder``: a pandas DataFrame <-> a float matrix that tabular models train on.

Each column becomes one or more *spans* of the encoded matrix:

- ``numerical``/``integer``/``datetime`` columns, with ``numerical="gmm"`` (CTGAN/TVAE's
  mode-specific normalisation): a ``continuous`` span of width 1 holding ``(x - mu_k) / (4 sigma_k)``
  for the mixture mode ``k`` the value most likely belongs to, then a ``softmax`` span one-hot over
  the modes. scikit-learn's ``BayesianGaussianMixture`` fits the modes on a subsample.
- the same columns with ``numerical="quantile"`` (TabDDPM): one ``continuous`` span holding a
  quantile transform to a standard normal.
- ``categorical``/``boolean`` columns: a ``softmax`` span, one-hot over the categories seen in
  ``fit`` (a missing value is a category of its own).
- a numerical column with missing values gains a two-way ``softmax`` span ``[present, missing]``,
  so the missing-value rate survives synthesis.

``inverse_transform`` is exact on encoded data: integers are rounded, datetimes are kept as whole
multiples of their finest unit, numbers are clipped to the range seen in ``fit``.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import numpy as np
import pandas as pd

KINDS = ("numerical", "integer", "categorical", "boolean", "datetime")
NUMERICAL_MODES = ("gmm", "quantile", "minmax")
_DATETIME_UNITS = (("D", 86_400 * 10**9), ("s", 10**9), ("ms", 10**6), ("us", 10**3), ("ns", 1))


@dataclasses.dataclass(frozen=True)
class Span:
    """``width`` columns of the encoded matrix starting at ``start``.

    ``kind`` is ``"continuous"`` (one real value) or ``"softmax"`` (a one-hot block); ``role`` says
    what it encodes: ``"value"``, ``"mode"`` (mixture mode), ``"missing"`` or ``"category"``.
    """

    column: str
    kind: str
    role: str
    start: int
    width: int


def _check_kind(column: str, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"metadata[{column!r}] = {kind!r} is not a column kind; use one of {KINDS}")


def detect_kind(series: pd.Series) -> str:
    """The column kind a pandas column most likely is; ``ValueError`` for mixed-type columns."""
    name = series.name
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "numerical"
    values = series.dropna()
    types = {type(v) for v in values}
    if types and types <= {bool, np.bool_}:
        return "boolean"
    if len({_type_family(t) for t in types}) > 1:
        found = ", ".join(sorted(t.__name__ for t in types))
        raise ValueError(
            f"column {name!r} mixes value types ({found}); convert it to one type (e.g. "
            f"df[{name!r}].astype(str)) or declare metadata={{{name!r}: 'categorical'}}"
        )
    return "categorical"


def _type_family(t: type) -> str:
    if issubclass(t, (str, np.str_)):
        return "str"
    if issubclass(t, (bool, np.bool_)):
        return "bool"
    if issubclass(t, (int, float, np.number)):
        return "number"
    return t.__name__


class TableEncoder:
    """Fit on a DataFrame, then ``transform`` rows to ``[n, width]`` float32 and back.

    Args:
      metadata: ``{column: kind}`` overriding detected kinds; kinds are ``numerical``, ``integer``,
        ``categorical``, ``boolean``, ``datetime``. A value may also be a dict with ``kind`` and
        public facts: ``min``/``max`` or ``categories`` (used when ``public=True``).
      numerical: ``"gmm"`` (mode-specific normalisation), ``"quantile"`` (normal quantiles) or
        ``"minmax"`` (``[min, max]`` scaled to ``[-1, 1]``).
      public: read nothing from the data but its columns and dtypes: every column's kind and
        range (``min``/``max``) or ``categories`` come from ``metadata`` given as dicts, numbers
        are min-max scaled (clipped to the public range), every column may be missing. This is
        what differential privacy needs.
      max_modes: most mixture modes per numerical column (``gmm``).
      fit_rows: the mixture / quantile fit uses at most this many rows (a seeded subsample).
      max_discrete_values: a numerical column with at most this many distinct values (and at
        least 4 rows per value) keeps its value set, and generated numbers snap to it.
      seed: seeds the subsample and the mixture fit, so a fit is reproducible.

    >>> df = pd.DataFrame({"age": [21, 35, 47, 35], "city": ["a", "b", "a", None]})
    >>> enc = TableEncoder(numerical="quantile").fit(df)
    >>> enc.transform(df).shape      # age: 1 value; city: a, b, missing
    (4, 4)
    >>> enc.inverse_transform(enc.transform(df)).equals(df)
    True
    """

    def __init__(self, metadata: dict[str, Any] | None = None, *, numerical: str = "gmm",
                 max_modes: int = 10, fit_rows: int = 5000, max_discrete_values: int = 32,
                 public: bool = False, seed: int = 0):
        if numerical not in NUMERICAL_MODES:
            raise ValueError(f"numerical={numerical!r}; choose one of {NUMERICAL_MODES}")
        self.metadata, self.public_info = {}, {}
        for column, spec in (metadata or {}).items():
            kind = spec.get("kind") if isinstance(spec, dict) else spec
            _check_kind(column, kind)
            self.metadata[column] = kind
            if isinstance(spec, dict):
                self.public_info[column] = {k: v for k, v in spec.items() if k != "kind"}
        if max_modes < 1:
            raise ValueError(f"max_modes must be >= 1, got {max_modes}")
        self.public = public
        self.numerical = "minmax" if public else numerical
        self.max_modes = max_modes
        self.fit_rows = fit_rows
        self.max_discrete_values = max_discrete_values
        self.seed = seed
        self.columns: list[dict[str, Any]] = []
        self.spans: list[Span] = []

    # ------------------------------------------------------------------ fit
    def fit(self, df: pd.DataFrame) -> TableEncoder:
        """Learn column kinds, categories and numerical transforms from ``df``."""
        validate_frame(df)
        unknown = sorted(set(self.metadata) - set(map(str, df.columns)))
        if unknown:
            raise ValueError(f"metadata names column(s) {unknown} not in the frame; columns are "
                             f"{list(map(str, df.columns))}")
        rng = np.random.default_rng(self.seed)
        self.columns = []
        if self.public:
            self.columns = [self._public_column(str(name)) for name in df.columns]
        for name in df.columns if not self.public else []:
            series = df[name]
            kind = self.metadata.get(str(name)) or detect_kind(series)
            self.columns.append(self._fit_column(str(name), series, kind, rng))
        self.dtypes = {str(c): str(df[c].dtype) for c in df.columns}
        self._layout()
        return self

    def _public_column(self, name: str) -> dict[str, Any]:
        """A column described only by user-supplied public metadata (nothing read from data):
        what differential privacy needs, since a fitted vocabulary or range would leak."""
        kind, info = self.metadata.get(name), self.public_info.get(name, {})
        example = ('{"kind": "numerical", "min": 0, "max": 120} or '
                   '{"kind": "categorical", "categories": ["a", "b"]}')
        if kind is None:
            raise ValueError(f"public metadata lacks column {name!r}: under differential privacy "
                             f"every column needs a kind and its public range or categories, e.g. "
                             f"metadata={{{name!r}: {example}}}")
        if kind in ("categorical", "boolean"):
            cats = [False, True] if kind == "boolean" else info.get("categories")
            if not cats:
                raise ValueError(f"public metadata for {name!r} needs 'categories' (the list of "
                                 f"possible values), e.g. {{'kind': 'categorical', 'categories': "
                                 f"['a', 'b']}}")
            return {"name": name, "kind": kind, "categories": [c for c in cats if c is not None]
                    + [None]}
        if "min" not in info or "max" not in info:
            raise ValueError(f"public metadata for {name!r} needs 'min' and 'max' (public bounds, "
                             f"not computed from the data), e.g. {example}")
        unit = "s" if kind == "datetime" else None
        lo, hi = (_to_numbers(name, pd.Series([info["min"], info["max"]]), kind, unit=unit)[0]
                  if kind == "datetime" else (float(info["min"]), float(info["max"])))
        if not hi > lo:
            raise ValueError(f"public metadata for {name!r}: max ({info['max']}) must exceed min "
                             f"({info['min']})")
        return {"name": name, "kind": kind, "unit": unit, "min": float(lo), "max": float(hi),
                "has_missing": True, "fill": float((lo + hi) / 2)}

    def _fit_column(self, name: str, series: pd.Series, kind: str, rng) -> dict[str, Any]:
        if kind in ("categorical", "boolean"):
            values = series.astype(object).where(series.notna(), None)
            uniq = pd.unique(values)
            present = [v for v in uniq if v is not None]
            try:
                present = sorted(present)
            except TypeError:
                present = sorted(present, key=str)
            cats = present + ([None] if len(present) < len(uniq) else [])
            if len(cats) < 2:
                raise ValueError(f"column {name!r} has a single value ({cats[0]!r}); a constant "
                                 "column carries nothing to learn: drop it and add it back after "
                                 "sampling")
            return {"name": name, "kind": kind, "categories": cats}
        numbers, unit = _to_numbers(name, series, kind)
        finite = numbers[~np.isnan(numbers)]
        if finite.size and np.ptp(finite) == 0:
            raise ValueError(f"column {name!r} is constant ({finite[0]!r}); drop it and add it back "
                             "after sampling")
        col = {"name": name, "kind": kind, "unit": unit, "min": float(finite.min()),
               "max": float(finite.max()), "has_missing": bool(np.isnan(numbers).any()),
               "fill": float(np.median(finite))}
        values = np.unique(finite)
        if values.size <= self.max_discrete_values and values.size * 4 <= finite.size:
            # Few distinct values (ordinal scores, rounded ages): generated numbers snap to the
            # nearest of them, as an exact member of the set seen in fit.
            col["values"] = values.tolist()
        sample = finite if finite.size <= self.fit_rows else rng.choice(finite, self.fit_rows,
                                                                         replace=False)
        if self.numerical == "quantile":
            from sklearn.preprocessing import QuantileTransformer
            qt = QuantileTransformer(n_quantiles=int(min(1000, sample.size)),
                                     output_distribution="normal", subsample=10**9)
            qt.fit(sample.reshape(-1, 1))
            col["quantiles"] = qt.quantiles_[:, 0].tolist()
            col["references"] = qt.references_.tolist()
        else:
            col.update(_fit_modes(sample, self.max_modes, self.seed))
        return col

    def _layout(self) -> None:
        spans, start = [], 0

        def add(column, kind, role, width):
            nonlocal start
            spans.append(Span(column, kind, role, start, width))
            start += width

        for col in self.columns:
            if "categories" in col:
                add(col["name"], "softmax", "category", len(col["categories"]))
                continue
            add(col["name"], "continuous", "value", 1)
            if self.numerical == "gmm":
                add(col["name"], "softmax", "mode", len(col["means"]))
            if col["has_missing"]:
                add(col["name"], "softmax", "missing", 2)
        self.spans = spans
        self.width = start

    # ------------------------------------------------------------ transform
    def _require_fit(self):
        if not self.columns:
            raise ValueError("this TableEncoder is not fitted; call fit(df) first")

    @property
    def discrete_columns(self) -> list[str]:
        """Categorical and boolean columns, in order (what CTGAN's condition vector covers)."""
        return [c["name"] for c in self.columns if "categories" in c]

    def column(self, name: str) -> dict[str, Any]:
        for col in self.columns:
            if col["name"] == name:
                return col
        raise ValueError(f"unknown column {name!r}; columns are {[c['name'] for c in self.columns]}")

    def span(self, column: str, role: str) -> Span:
        for s in self.spans:
            if s.column == column and s.role == role:
                return s
        raise ValueError(f"column {column!r} has no {role!r} span")

    def category_index(self, column: str, value: Any) -> int:
        """The one-hot position of ``value`` in a categorical column; ``ValueError`` if unseen."""
        col = self.column(column)
        if "categories" not in col:
            raise ValueError(f"column {column!r} is {col['kind']}; only categorical and boolean "
                             "columns have categories")
        cats = col["categories"]
        key = None if _is_missing(value) else value
        for i, c in enumerate(cats):
            if (c is None and key is None) or (c is not None and key is not None and c == key):
                return i
        shown = [c for c in cats if c is not None][:20]
        raise ValueError(f"column {column!r} has no category {value!r}; seen in fit: {shown}")

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        """``[len(df), width]`` float32: the encoded rows."""
        self._require_fit()
        missing = [c["name"] for c in self.columns if c["name"] not in df.columns]
        if missing:
            raise ValueError(f"frame lacks column(s) {missing} the encoder was fitted on")
        out = np.zeros((len(df), self.width), np.float32)
        for col in self.columns:
            series = df[col["name"]]
            if "categories" in col:
                span = self.span(col["name"], "category")
                idx = self._category_indices(col, series)
                out[np.arange(len(df)), span.start + idx] = 1.0
                continue
            numbers, _ = _to_numbers(col["name"], series, col["kind"], unit=col["unit"])
            nan = np.isnan(numbers)
            if nan.any() and not col["has_missing"]:
                raise ValueError(f"column {col['name']!r} has missing values, but had none in fit")
            numbers = np.where(nan, col["fill"], numbers)
            value = self.span(col["name"], "value")
            if self.numerical == "quantile":
                out[:, value.start] = _quantile_forward(col, numbers)
            elif self.numerical == "minmax":
                scaled = 2.0 * (numbers - col["min"]) / (col["max"] - col["min"]) - 1.0
                out[:, value.start] = np.clip(scaled, -1.0, 1.0)
            else:
                alpha, mode = _mode_encode(col, numbers)
                out[:, value.start] = alpha
                out[np.arange(len(df)), self.span(col["name"], "mode").start + mode] = 1.0
            if col["has_missing"]:
                miss = self.span(col["name"], "missing")
                out[np.arange(len(df)), miss.start + nan.astype(int)] = 1.0
        return out

    def _category_indices(self, col, series: pd.Series) -> np.ndarray:
        values = series.astype(object)
        missing = values.isna().to_numpy()
        present = [c for c in col["categories"] if c is not None]
        idx = pd.Index(present, dtype=object).get_indexer(values.where(~missing, None))
        unseen = (idx < 0) & ~missing
        if unseen.any():
            raise ValueError(f"column {col['name']!r} has category {values[unseen].iloc[0]!r}, "
                             f"unseen in fit; seen: {present[:20]}")
        if missing.any():
            if None not in col["categories"]:
                raise ValueError(f"column {col['name']!r} has missing values, but had none in fit")
            idx[missing] = col["categories"].index(None)
        return idx.astype(np.int64)

    def inverse_transform(self, data: np.ndarray) -> pd.DataFrame:
        """Rows ``[n, width]`` (encoded or generated) back to a DataFrame with the fitted dtypes.

        Softmax spans are read by ``argmax``; continuous values are clipped to the fitted range.
        """
        self._require_fit()
        data = np.asarray(data, np.float64)
        if data.ndim != 2 or data.shape[1] != self.width:
            raise ValueError(f"expected encoded rows of shape [n, {self.width}], got {data.shape}")
        columns = {}
        for col in self.columns:
            name = col["name"]
            if "categories" in col:
                span = self.span(name, "category")
                idx = data[:, span.start:span.start + span.width].argmax(1)
                values = np.array(col["categories"], dtype=object)[idx]
                columns[name] = _restore_categorical(values, col["kind"], self.dtypes[name])
                continue
            value = data[:, self.span(name, "value").start]
            if self.numerical == "quantile":
                numbers = _quantile_inverse(col, value)
            elif self.numerical == "minmax":
                numbers = (np.clip(value, -1.0, 1.0) + 1.0) / 2.0 * (col["max"] - col["min"]) + col["min"]
            else:
                mode_span = self.span(name, "mode")
                mode = data[:, mode_span.start:mode_span.start + mode_span.width].argmax(1)
                numbers = _mode_decode(col, value, mode)
            numbers = np.clip(numbers, col["min"], col["max"])
            if "values" in col:
                numbers = _snap(numbers, np.asarray(col["values"]))
            if col["has_missing"]:
                miss = self.span(name, "missing")
                is_nan = data[:, miss.start:miss.start + 2].argmax(1) == 1
                numbers = np.where(is_nan, np.nan, numbers)
            columns[name] = _restore_numbers(numbers, col, self.dtypes[name])
        return pd.DataFrame(columns)

    # -------------------------------------------------------------- persist
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description from which :meth:`from_dict` rebuilds the same encoder."""
        self._require_fit()
        metadata = {c: ({"kind": k, **self.public_info[c]} if c in self.public_info else k)
                    for c, k in self.metadata.items()}
        return {"metadata": metadata, "public": self.public, "numerical": self.numerical,
                "max_modes": self.max_modes,
                "fit_rows": self.fit_rows, "max_discrete_values": self.max_discrete_values,
                "seed": self.seed, "dtypes": self.dtypes,
                "columns": [_jsonable(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TableEncoder:
        enc = cls(d["metadata"], numerical=d["numerical"], max_modes=d["max_modes"],
                  fit_rows=d["fit_rows"], max_discrete_values=d["max_discrete_values"],
                  public=d.get("public", False), seed=d["seed"])
        enc.columns = [dict(c) for c in d["columns"]]
        for c in enc.columns:
            if c["kind"] == "boolean":
                c["categories"] = [None if v is None else bool(v) for v in c["categories"]]
        enc.dtypes = dict(d["dtypes"])
        enc._layout()
        return enc


def validate_frame(df: Any) -> None:
    """``ValueError`` for what no tabular model can learn from."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise ValueError("the frame has no columns")
    if len(df) < 2:
        raise ValueError(f"the frame has {len(df)} row(s); fitting needs at least 2 (better hundreds)")
    if df.columns.duplicated().any():
        raise ValueError(f"duplicate column names: {list(df.columns[df.columns.duplicated()])}")
    for name in df.columns:
        if df[name].isna().all():
            raise ValueError(f"column {name!r} is entirely missing; drop it or fill it")


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT


def _to_numbers(name: str, series: pd.Series, kind: str, unit: str | None = None):
    """Float64 values of a numerical/integer/datetime column (NaN where missing) and its unit."""
    if kind == "datetime":
        stamps = pd.to_datetime(series, errors="coerce")
        if stamps.notna().sum() < series.notna().sum():
            raise ValueError(f"column {name!r} is declared datetime but has values that are not dates")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = stamps.astype("datetime64[ns]").to_numpy().astype("int64")
        valid = stamps.notna().to_numpy()
        if unit is None:
            unit = next(u for u, size in _DATETIME_UNITS if np.all(ns[valid] % size == 0))
        size = dict(_DATETIME_UNITS)[unit]
        out = np.where(valid, ns // size, 0).astype(np.float64)
        return np.where(valid, out, np.nan), unit
    try:
        numbers = pd.to_numeric(series, errors="raise").astype(np.float64).to_numpy()
    except (ValueError, TypeError) as e:
        raise ValueError(f"column {name!r} is {kind} but has non-numeric values ({e}); declare it "
                         f"categorical in metadata or clean it") from None
    if np.isinf(numbers).any():
        raise ValueError(f"column {name!r} holds infinite values; replace them (e.g. with NaN) first")
    return numbers, None


def _fit_modes(sample: np.ndarray, max_modes: int, seed: int) -> dict[str, list[float]]:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture
    n_modes = int(min(max_modes, np.unique(sample).size))
    bgm = BayesianGaussianMixture(
        n_components=n_modes, weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=0.001, max_iter=100, n_init=1, random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        bgm.fit(sample.reshape(-1, 1))
    keep = bgm.weights_ > 0.005
    if not keep.any():
        keep[np.argmax(bgm.weights_)] = True
    stds = np.sqrt(bgm.covariances_.reshape(-1))[keep]
    spread = float(np.std(sample)) or 1.0
    return {"means": bgm.means_[keep, 0].tolist(),
            "stds": np.maximum(stds, 1e-3 * spread).tolist(),
            "weights": bgm.weights_[keep].tolist()}


def _mode_encode(col, x: np.ndarray):
    means, stds, weights = (np.array(col[k]) for k in ("means", "stds", "weights"))
    log_p = (np.log(weights) - np.log(stds) - 0.5 * ((x[:, None] - means) / stds) ** 2)
    mode = log_p.argmax(1)
    alpha = (x - means[mode]) / (4.0 * stds[mode])
    return alpha, mode


def _mode_decode(col, alpha: np.ndarray, mode: np.ndarray) -> np.ndarray:
    means, stds = np.array(col["means"]), np.array(col["stds"])
    return alpha * 4.0 * stds[mode] + means[mode]


def _quantile_forward(col, x: np.ndarray) -> np.ndarray:
    q, r = np.array(col["quantiles"]), np.array(col["references"])
    from scipy import stats
    # Average the forward and backward interpolation, as scikit-learn does, so ties map to the
    # middle of their flat segment.
    u = 0.5 * (np.interp(x, q, r) - np.interp(-x, -q[::-1], -r[::-1]))
    eps = 1e-7
    return stats.norm.ppf(np.clip(u, eps, 1 - eps))


def _quantile_inverse(col, z: np.ndarray) -> np.ndarray:
    from scipy import stats
    q, r = np.array(col["quantiles"]), np.array(col["references"])
    return np.interp(stats.norm.cdf(z), r, q)


def _snap(x: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each of ``x`` replaced by the nearest of the sorted ``values``."""
    if values.size == 1:
        return np.full(x.shape, values[0])
    i = np.clip(np.searchsorted(values, x), 1, values.size - 1)
    lower, upper = values[i - 1], values[i]
    return np.where(x - lower <= upper - x, lower, upper)


def _restore_numbers(numbers: np.ndarray, col, dtype: str) -> pd.Series:
    nan = np.isnan(numbers)
    if col["kind"] == "datetime":
        size = dict(_DATETIME_UNITS)[col["unit"]]
        ns = np.where(nan, 0, np.round(numbers)).astype(np.int64) * size
        out = pd.Series(ns.astype("datetime64[ns]"))
        out[nan] = pd.NaT
        return out.astype(dtype) if dtype.startswith("datetime64") else out
    if col["kind"] == "integer":
        numbers = np.round(numbers)
        if nan.any():
            return pd.Series(pd.array(np.where(nan, 0, numbers).astype(np.int64), dtype="Int64")
                             ).where(~nan, pd.NA).astype(dtype if dtype[0] in "IU" else "Int64")
        if dtype.startswith(("int", "uint", "Int", "UInt")):
            return pd.Series(numbers.astype(np.int64)).astype(dtype)
        return pd.Series(numbers)
    return pd.Series(numbers).astype(dtype if dtype.startswith("float") else "float64")


def _restore_categorical(values: np.ndarray, kind: str, dtype: str) -> pd.Series:
    out = pd.Series(values, dtype=object)
    has_none = any(v is None for v in values)
    if kind == "boolean":
        if has_none:
            return out.astype("boolean")
        return out.astype(bool if dtype == "bool" else dtype)
    if dtype == "category":
        return out.astype("category")
    if dtype not in ("object", "str", "string"):
        try:
            return out.astype(dtype)
        except (TypeError, ValueError):
            return out
    return out.where(out.notna(), np.nan) if dtype == "object" else out.astype(dtype)


def _jsonable(col: dict[str, Any]) -> dict[str, Any]:
    out = dict(col)
    if "categories" in out:
        out["categories"] = [c.item() if isinstance(c, np.generic) else c for c in out["categories"]]
    return out
