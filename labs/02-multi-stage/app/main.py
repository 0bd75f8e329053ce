"""The iris service again, now a k-nearest-neighbours model over a large reference table.

The model is not part of the image: it is a folder read from MODEL_PATH (default /models/iris-knn),
mounted at run time. The search runs in `fastknn`, a C extension built in the image's builder stage.

  GET  /health   the process is up
  GET  /live     the process can still do work
  GET  /ready    the model is loaded (503 with the reason until it is)
  POST /predict  {"features": [4 numbers]} -> {"class": ..., "votes": {...}}
"""

import json
import mmap
import os
from collections import Counter
from contextlib import asynccontextmanager
from pathlib import Path

import fastknn
from fastapi import FastAPI, HTTPException, Response, status
from pydantic import BaseModel, Field

MODEL_PATH = Path(os.environ.get("MODEL_PATH", "/models/iris-knn"))
state: dict = {"model": None, "error": "not loaded yet"}


def load(folder: Path) -> dict:
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != "dockerlab-knn/1":
        raise ValueError(f"unknown model format {meta.get('format')!r}")
    with open(folder / "table.f32", "rb") as table_file, open(folder / "labels.u8", "rb") as labels_file:
        table = mmap.mmap(table_file.fileno(), 0, access=mmap.ACCESS_READ)  # read-only, shared, lazy
        labels = labels_file.read()
    if len(table) != meta["rows"] * meta["dim"] * 4 or len(labels) != meta["rows"]:
        raise ValueError("table.f32 or labels.u8 does not match meta.json")
    return {"meta": meta, "table": table, "labels": labels}


@asynccontextmanager
async def lifespan(_app: FastAPI):
    try:
        state["model"], state["error"] = load(MODEL_PATH), None
    except Exception as error:  # keep serving, so /ready can say what went wrong
        state["error"] = f"cannot load the model from {MODEL_PATH}: {error}"
    yield


app = FastAPI(title="Iris kNN classifier", lifespan=lifespan)


class Flower(BaseModel):
    features: list[float] = Field(min_length=4, max_length=4)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/live")
def live() -> dict:
    return {"live": True}


@app.get("/ready")
def ready(response: Response) -> dict:
    model = state["model"]
    if model is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"ready": False, "reason": state["error"]}
    return {"ready": True, "model": str(MODEL_PATH), "rows": model["meta"]["rows"]}


@app.post("/predict")
def predict(flower: Flower) -> dict:
    model = state["model"]
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state["error"])
    meta = model["meta"]
    neighbours = fastknn.nearest(model["table"], meta["dim"], flower.features, meta["k"])
    votes = Counter(meta["classes"][model["labels"][index]] for index, _distance in neighbours)
    return {"class": votes.most_common(1)[0][0], "votes": dict(votes)}
