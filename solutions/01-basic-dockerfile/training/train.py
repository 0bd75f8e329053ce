"""Train the iris classifier the service loads, deterministically.

Run it with the versions pinned in requirements.txt (a pickled model loads reliably only with
the scikit-learn version that wrote it):

    python training/train.py --out model/model.joblib
"""

import argparse
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def train():
    iris = load_iris()
    labels = iris.target_names[iris.target]  # train on names, so predictions are names
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500, random_state=0))
    return model.fit(iris.data, labels), model.score(iris.data, labels)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "model" / "model.joblib")
    out = parser.parse_args().out
    model, accuracy = train()
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, out, compress=3)
    print(f"wrote {out} (training accuracy {accuracy:.3f})")
