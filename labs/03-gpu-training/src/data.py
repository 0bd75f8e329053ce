"""The training data: small synthetic images whose class is the corner holding a bright patch.

Made from a seed, so it needs no download. `python -m src.data --out DIR` writes it to a folder
(float32 bytes plus meta.json, readable without PyTorch) that training reads from /data.
"""

from __future__ import annotations

import argparse
import array
import json
import random
from pathlib import Path

SIZE, CHANNELS, CLASSES = 64, 3, 4


def sample(rng: random.Random) -> tuple[list[float], int]:
    """One image (CHANNELS x SIZE x SIZE values, row-major) and its class."""
    label = rng.randrange(CLASSES)
    pixels = [rng.random() * 0.5 for _ in range(CHANNELS * SIZE * SIZE)]
    top, left = (label // 2) * SIZE // 2, (label % 2) * SIZE // 2
    for channel in range(CHANNELS):
        for row in range(top + 8, top + 24):
            start = channel * SIZE * SIZE + row * SIZE + left + 8
            pixels[start:start + 16] = [1.0] * 16
    return pixels, label


def write(out: Path, count: int = 256, seed: int = 1) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    images, labels = array.array("f"), array.array("B")
    for _ in range(count):
        pixels, label = sample(rng)
        images.extend(pixels)
        labels.append(label)
    with open(out / "images.f32", "wb") as handle:
        images.tofile(handle)
    with open(out / "labels.u8", "wb") as handle:
        labels.tofile(handle)
    meta = {"format": "dockerlab-images/1", "count": count, "shape": [CHANNELS, SIZE, SIZE], "classes": CLASSES}
    (out / "meta.json").write_text(json.dumps(meta) + "\n")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=256)
    args = parser.parse_args()
    print(f"wrote {write(args.out, args.count)}")
