"""Publish a version of the iris model as a folder the service mounts at run time.

The model is versioned apart from the image: the same image (say 1.2.3) serves model 7 today and
model 8 tomorrow, with nothing rebuilt. The folder holds model.joblib and a VERSION file:

    python training/publish_model.py --out /srv/models/iris --version 7
    docker run -v /srv/models/iris:/models/iris:ro ...
"""

import argparse
import shutil
from pathlib import Path

MODEL = Path(__file__).resolve().parent.parent / "model" / "model.joblib"

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--version", required=True)
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    shutil.copy(MODEL, arguments.out / "model.joblib")
    (arguments.out / "VERSION").write_text(arguments.version + "\n")
    print(f"model {arguments.version} published in {arguments.out}")
