"""The HTML report: self-contained, and rendered with its plots by a real headless browser."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from tables import mixed_frame

from jaxsynth.eval import evaluate
from jaxsynth.eval.html import REAL, SYNTHETIC


@pytest.fixture(scope="module")
def report():
    train, holdout, synthetic = mixed_frame(300, seed=0), mixed_frame(150, seed=1), mixed_frame(300, seed=2)
    return evaluate(train, synthetic, holdout, target="member", quasi_identifiers=["age", "city"],
                    privacy_budget={"epsilon": 3.0, "delta": 1e-5, "noise_multiplier": 1.1})


def test_html_is_self_contained_with_every_plot_and_the_budget(report, tmp_path):
    path = tmp_path / "report.html"
    report.to_html(path)
    page = path.read_text()
    assert not re.search(r"""(src|href)=["']?(http|//)""", page)  # nothing fetched
    # One distribution per column, the correlation heatmaps, the DCR histogram.
    assert page.count('data-plot="1"') == len(report.columns) + 2
    assert page.count("data:image/png;base64,") == len(report.columns) + 2
    assert "noise_multiplier" in page and "Fidelity" in page and "privacy.membership_inference.auc" in page
    head = report.headline()
    assert set(head) == {"fidelity", "utility", "privacy"} and all(0 <= v <= 1 for v in head.values())


def _browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def _colour_pixels(png, colour: str) -> int:
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    want = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - want).sum(-1) < 30).sum())


def _screenshot(browser: str, html_path, png_path) -> None:
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={png_path}", "--window-size=1280,3200", f"file://{html_path}"],
                   check=True, capture_output=True, timeout=120)


def test_a_headless_browser_renders_the_plots(report, tmp_path):
    browser = _browser()
    if browser is None:
        if os.environ.get("CI"):
            pytest.fail("CI must have Debian's chromium (.ci/run installs it)")
        pytest.skip("no chromium here: `apt-get install chromium` to run the browser check")
    page = tmp_path / "report.html"
    report.to_html(page)
    shot = tmp_path / "shot.png"
    _screenshot(browser, page, shot)
    # Categorical bars are solid real-blue and synthetic-orange: thousands of pixels of each.
    blue, orange = _colour_pixels(shot, REAL), _colour_pixels(shot, SYNTHETIC)
    assert blue > 3000 and orange > 3000, (blue, orange)
    # The same page with its images broken keeps only the small legend swatches.
    broken = tmp_path / "broken.html"
    broken.write_text(page.read_text().replace("data:image/png;base64,", "data:image/png;base64,xx"))
    _screenshot(browser, broken, tmp_path / "broken.png")
    assert _colour_pixels(tmp_path / "broken.png", REAL) < 1000
