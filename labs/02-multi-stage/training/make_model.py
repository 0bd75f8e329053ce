"""Make the k-nearest-neighbours model the service loads: a large reference table of flowers.

The model is a folder (the service reads it from MODEL_PATH):
    meta.json    format, dimensions, row count, class names, k
    table.f32    float32 measurements, 4 per row (sepal length/width, petal length/width, cm)
    labels.u8    one class index per row

Rows are drawn around each iris species' mean with its spread, from a fixed seed, so the same
command always writes the same bytes. With the default 3,000,000 rows the folder holds about
51 MB: enough that baking it into an image is a decision, not an accident.

    python training/make_model.py --out model/
"""

from __future__ import annotations

import argparse
import array
import json
import random
from pathlib import Path

# Per species: mean and standard deviation of the four measurements (Fisher's iris data).
SPECIES = {
    "setosa": ([5.006, 3.428, 1.462, 0.246], [0.352, 0.379, 0.174, 0.105]),
    "versicolor": ([5.936, 2.770, 4.260, 1.326], [0.516, 0.314, 0.470, 0.198]),
    "virginica": ([6.588, 2.974, 5.552, 2.026], [0.636, 0.322, 0.552, 0.275]),
}
FORMAT = "dockerlab-knn/1"


def make(out: Path, rows: int = 3_000_000, seed: int = 0, chunk: int = 100_000) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    names = list(SPECIES)
    with open(out / "table.f32", "wb") as table, open(out / "labels.u8", "wb") as labels:
        for start in range(0, rows, chunk):
            count = min(chunk, rows - start)
            values, classes = array.array("f"), array.array("B")
            for index in range(start, start + count):
                label = index % len(names)
                means, spreads = SPECIES[names[label]]
                values.extend(max(0.0, rng.gauss(m, s)) for m, s in zip(means, spreads))
                classes.append(label)
            if values.itemsize != 4:
                raise SystemExit("this platform's float is not 32 bits")
            values.tofile(table)
            classes.tofile(labels)
    meta = {"format": FORMAT, "dim": 4, "rows": rows, "classes": names, "k": 15, "seed": seed}
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "model")
    parser.add_argument("--rows", type=int, default=3_000_000)
    args = parser.parse_args()
    folder = make(args.out, args.rows)
    size = sum(f.stat().st_size for f in folder.iterdir())
    print(f"wrote {folder} ({args.rows} rows, {size / 1e6:.1f} MB)")
