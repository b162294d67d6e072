"""The HTML report: one self-contained page (CSS inline, plots as embedded PNG) rendered from a
:class:`~jaxsynth.eval.report.Report` with matplotlib's Agg backend (no display needed)."""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np

REAL, SYNTHETIC, HOLDOUT = "#1f77b4", "#ff7f0e", "#2ca02c"
MAX_COLUMN_PLOTS = 36
MAX_CATEGORIES = 15

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1200px;
color:#222;padding:0 1rem}
h1{margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #ddd;padding-bottom:.3rem}
.meta{color:#666;font-size:.9rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{flex:1;min-width:220px;border:1px solid #ddd;border-radius:8px;padding:1rem}
.card .v{font-size:2.4rem;font-weight:600}.card .d{color:#555;font-size:.85rem}
.bar{height:8px;background:#eee;border-radius:4px;margin:.4rem 0}.bar div{height:8px;border-radius:4px}
table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left}th{background:#fafafa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.grid{display:flex;flex-wrap:wrap;gap:.5rem}.grid img{width:280px}
img.wide{max-width:100%}
.legend span{display:inline-block;width:12px;height:12px;margin:0 .3rem 0 1rem;vertical-align:middle}
.note{color:#666;font-size:.85rem}
"""


def _png(fig) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _img(src: str, alt: str, cls: str = "") -> str:
    return f'<img src="{src}" alt="{html.escape(alt)}" class="{cls}" data-plot="1">'


def _fmt(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return "n/a" if np.isnan(v) else f"{v:.4g}"
    return html.escape(str(v))


def _column_figure(name: str, real: dict, synthetic: dict) -> str:
    import matplotlib.pyplot as plt
    import pandas as pd
    fig, ax = plt.subplots(figsize=(3.6, 2.4))
    few = real["kind"] == "numerical" and 0 < len(np.unique(real["values"])) <= MAX_CATEGORIES
    if few and not real.get("dates"):
        # A few distinct numbers (years, counts): bars per value read better than a histogram.
        order = np.unique(real["values"])
        real = {"kind": "categorical", "frequencies": pd.Series(real["values"]).value_counts(normalize=True)
                .reindex(order, fill_value=0.0).rename(index=lambda v: f"{v:g}")}
        synthetic = {"kind": "categorical", "frequencies": pd.Series(synthetic["values"]).value_counts(
            normalize=True).rename(index=lambda v: f"{v:g}")}
    if real["kind"] == "numerical":
        both = np.concatenate([real["values"], synthetic["values"]])
        if both.size:
            lo, hi = np.percentile(both, [0.5, 99.5])
            bins = np.linspace(lo, hi if hi > lo else lo + 1.0, 31)
            ax.hist(real["values"], bins=bins, density=True, alpha=0.55, color=REAL, label="real")
            ax.hist(synthetic["values"], bins=bins, density=True, alpha=0.55, color=SYNTHETIC,
                    label="synthetic")
            if real.get("dates"):
                ax.xaxis_date()
                fig.autofmt_xdate()
    else:
        p, q = real["frequencies"], synthetic["frequencies"]
        cats = list(p.index[:MAX_CATEGORIES])
        x = np.arange(len(cats))
        ax.bar(x - 0.2, [p.get(c, 0.0) for c in cats], 0.4, color=REAL, label="real")
        ax.bar(x + 0.2, [q.get(c, 0.0) for c in cats], 0.4, color=SYNTHETIC, label="synthetic")
        ax.set_xticks(x, [c[:10] for c in cats], rotation=45, ha="right", fontsize=7)
    ax.set_title(name[:40], fontsize=9)
    ax.tick_params(labelsize=7)
    ax.set_yticks([])
    return _png(fig)


def _correlation_figure(corr: dict) -> str:
    import matplotlib.pyplot as plt
    cols = corr["columns"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    panels = (("real", corr["real"], "RdBu_r", (-1, 1)), ("synthetic", corr["synthetic"], "RdBu_r", (-1, 1)),
              ("|real - synthetic|", np.abs(corr["real"] - corr["synthetic"]), "Greys", (0, 1)))
    labels = [c[:12] for c in cols]
    for ax, (title, m, cmap, (lo, hi)) in zip(axes, panels, strict=True):
        im = ax.imshow(np.nan_to_num(m), cmap=cmap, vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=10)
        if len(cols) <= 25:
            ax.set_xticks(range(len(cols)), labels, rotation=90, fontsize=7)
            ax.set_yticks(range(len(cols)), labels, fontsize=7)
        else:
            ax.set_xticks([])
            ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    return _png(fig)


def _dcr_figure(dists: dict) -> str:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3))
    allv = np.concatenate(list(dists.values()))
    hi = float(np.percentile(allv, 99)) if allv.size else 1.0
    bins = np.linspace(0.0, hi if hi > 0 else 1.0, 41)
    for name, color in (("synthetic", SYNTHETIC), ("holdout", HOLDOUT)):
        if name in dists:
            d = dists[name]
            ax.hist(np.minimum(d, bins[-1]), bins=bins, density=True, alpha=0.55, color=color,
                    label=f"{name} -> train (median {np.median(d):.3g})")
            ax.axvline(np.median(d), color=color, linestyle="--")
    ax.set_xlabel("distance to closest training record")
    ax.set_yticks([])
    ax.legend(fontsize=8)
    return _png(fig)


def _card(title: str, value: float | None, definition: str) -> str:
    if value is None:
        return (f'<div class="card"><div>{title}</div><div class="v">n/a</div>'
                f'<div class="d">{html.escape(definition)}</div></div>')
    color = "#2ca02c" if value >= 0.8 else "#ff7f0e" if value >= 0.5 else "#d62728"
    return (f'<div class="card"><div>{title}</div><div class="v">{value:.2f}</div>'
            f'<div class="bar"><div style="width:{100 * value:.0f}%;background:{color}"></div></div>'
            f'<div class="d">{html.escape(definition)}</div></div>')


def render(report) -> str:
    """The report as one HTML string."""
    import matplotlib
    matplotlib.use("Agg", force=False)
    from jaxsynth.eval.report import describe

    info, scores, head = report.info, report.scores, report.headline()
    rows = info.get("rows", {})
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>jaxsynth evaluation report</title>",
             f"<style>{_CSS}</style></head><body>",
             "<h1>Synthetic data evaluation</h1>",
             f"<p class='meta'>real {rows.get('real')} rows, synthetic {rows.get('synthetic')} rows, "
             f"holdout {rows.get('holdout') or 'none'}; target {_fmt(info.get('target')) or 'none'}; "
             f"created {_fmt(info.get('created'))} by jaxsynth</p>",
             "<h2>Headline</h2><div class='cards'>"]
    for key, title in (("fidelity", "Fidelity"), ("utility", "Utility"), ("privacy", "Privacy")):
        definition = describe(f"headline.{key}")[0]
        if key == "utility" and key not in head:
            definition = "needs a target column and holdout rows"
        parts.append(_card(title, head.get(key), definition))
    parts.append("</div>")

    budget = info.get("privacy_budget")
    parts.append("<h2>Differential privacy</h2>")
    if budget:
        parts.append("<table><tr><th>figure</th><th>value</th></tr>" + "".join(
            f"<tr><td>{_fmt(k)}</td><td class='n'>{_fmt(v)}</td></tr>" for k, v in budget.items()
            if not isinstance(v, dict | list)) + "</table>")
    else:
        parts.append("<p class='note'>The model was not trained with differential privacy (no budget "
                     "given), so only the empirical privacy figures below apply.</p>")

    legend = (f"<p class='legend'><span style='background:{REAL}'></span>real"
              f"<span style='background:{SYNTHETIC}'></span>synthetic"
              f"<span style='background:{HOLDOUT}'></span>holdout</p>")
    parts.append("<h2>Columns</h2><table><tr><th>column</th><th>kind</th><th>shape (KS/TV complement)</th>"
                 "<th>Wasserstein</th><th>Jensen-Shannon</th><th>test</th><th>p-value</th>"
                 "<th>missing agreement</th></tr>")
    for c, d in report.columns.items():
        parts.append(f"<tr><td>{_fmt(c)}</td><td>{d['kind']}</td><td class='n'>{_fmt(d['shape'])}</td>"
                     f"<td class='n'>{_fmt(d['wasserstein'])}</td>"
                     f"<td class='n'>{_fmt(d['jensen_shannon'])}</td>"
                     f"<td>{d['test']}</td><td class='n'>{_fmt(d['test_pvalue'])}</td>"
                     f"<td class='n'>{_fmt(d['missing_agreement'])}</td></tr>")
    parts.append("</table>")

    marginals = report.plots.get("marginals", {})
    if marginals:
        parts.append("<h2>Distributions, real vs synthetic</h2>" + legend + "<div class='grid'>")
        for c, (r, s) in list(marginals.items())[:MAX_COLUMN_PLOTS]:
            parts.append(_img(_column_figure(str(c), r, s), f"distribution of {c}"))
        parts.append("</div>")
        if len(marginals) > MAX_COLUMN_PLOTS:
            parts.append(f"<p class='note'>First {MAX_COLUMN_PLOTS} of {len(marginals)} columns shown.</p>")
    if "correlation" in report.plots:
        parts.append("<h2>Correlations (Pearson), side by side</h2>")
        parts.append(_img(_correlation_figure(report.plots["correlation"]), "correlation heatmaps", "wide"))
    if report.plots.get("dcr"):
        parts.append("<h2>Distance to closest record</h2><p class='note'>Synthetic rows should sit no "
                     "closer to the training rows than real rows the model never saw (holdout) do.</p>")
        parts.append(_img(_dcr_figure(report.plots["dcr"]), "DCR histogram", "wide"))

    parts.append("<h2>All figures</h2><table><tr><th>name</th><th>value</th><th>range</th><th>better</th>"
                 "<th>definition</th><th>reference</th></tr>")
    for name, value in scores.items():
        definition, rng, better, ref = describe(name)
        parts.append(f"<tr><td>{_fmt(name)}</td><td class='n'>{_fmt(value)}</td><td>{_fmt(rng)}</td>"
                     f"<td>{_fmt(better)}</td><td>{_fmt(definition)}</td><td>{_fmt(ref)}</td></tr>")
    parts.append("</table></body></html>")
    return "".join(parts)
