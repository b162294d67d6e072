"""Image helpers: tiling samples into a grid and writing it as PNG."""

from __future__ import annotations

import math

import numpy as np


def make_grid(images: np.ndarray, *, cols: int | None = None, pad: int = 1) -> np.ndarray:
    """Tile ``images: [n, h, w, c]`` in ``[0, 1]`` into one ``[H, W, c]`` array.

    >>> make_grid(np.zeros((5, 2, 2, 1)), cols=3, pad=0).shape
    (4, 6, 1)
    """
    images = np.asarray(images, np.float32)
    if images.ndim != 4:
        raise ValueError(f"images must be [n, height, width, channels], got shape {images.shape}")
    n, h, w, c = images.shape
    cols = cols or math.ceil(math.sqrt(n))
    rows = math.ceil(n / cols)
    grid = np.ones((rows * (h + pad) + pad, cols * (w + pad) + pad, c), np.float32)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        y, x = pad + r * (h + pad), pad + q * (w + pad)
        grid[y:y + h, x:x + w] = img
    return grid


def save_grid(images: np.ndarray, path: str, *, scale: int | None = None, cols: int | None = None) -> None:
    """Write a PNG grid (``cols`` per row; default square); small images are enlarged
    (nearest) so a person can see them."""
    from PIL import Image

    grid = make_grid(images, cols=cols)
    scale = scale or max(1, 256 // max(images.shape[1], 1) // 4)
    pixels = (np.clip(grid, 0.0, 1.0) * 255).round().astype(np.uint8)
    pixels = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
    img = Image.fromarray(pixels)
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    img.save(path)
