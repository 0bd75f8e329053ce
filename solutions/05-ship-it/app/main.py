"""The iris classifier again, ready to ship: the model is versioned apart from the image and mounted
at run time, and the service tells a liveness probe from a readiness probe.

  GET  /live     the process is alive and answering (never depends on the model)
  GET  /ready    the model is loaded: 200 with its version, 503 with the reason until it is
  GET  /health   the same as /live (Labs 01 and 02 used this name)
  POST /predict  {"features": [sepal_length, sepal_width, petal_length, petal_width]} -> {"class": ...}

Once the model is loaded it also writes READY_FILE (default /tmp/iris/ready), for probes that run a
command in the container rather than call it (`cat /tmp/iris/ready`), so /tmp must be writable.
"""

import os
from contextlib import asynccontextmanager
from pathlib import Path

import joblib
from fastapi import FastAPI, HTTPException, Response, status
from iris_private import about
from pydantic import BaseModel, Field

MODEL_PATH = Path(os.environ.get("MODEL_PATH", "/models/iris/model.joblib"))
READY_FILE = Path(os.environ.get("READY_FILE", "/tmp/iris/ready"))

state: dict = {"model": None, "version": None, "error": "not loaded yet"}


@asynccontextmanager
async def lifespan(_app: FastAPI):
    try:
        state["model"], state["error"] = joblib.load(MODEL_PATH), None
        version_file = MODEL_PATH.parent / "VERSION"
        state["version"] = version_file.read_text().strip() if version_file.exists() else None
    except Exception as error:  # keep serving: alive, not ready, and /ready says why
        state["error"] = f"cannot load {MODEL_PATH}: {error}"
    if state["model"] is not None:
        READY_FILE.parent.mkdir(parents=True, exist_ok=True)
        READY_FILE.write_text(f"{state['version']}\n")
    yield


app = FastAPI(title="Iris classifier", lifespan=lifespan)


class Flower(BaseModel):
    features: list[float] = Field(min_length=4, max_length=4, description="sepal and petal length and width, in cm")


@app.get("/live")
@app.get("/health")
def live() -> dict:
    return {"live": True}


@app.get("/ready")
def ready(response: Response) -> dict:
    if state["model"] is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"ready": False, "reason": state["error"]}
    return {"ready": True, "model": str(MODEL_PATH), "model_version": state["version"]}


@app.post("/predict")
def predict(flower: Flower) -> dict:
    model = state["model"]
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state["error"])
    probabilities = model.predict_proba([flower.features])[0]
    best = int(probabilities.argmax())
    name = str(model.classes_[best])
    return {
        "class": name,
        "about": about(name),
        "model_version": state["version"],
        "probabilities": {str(label): round(float(p), 4) for label, p in zip(model.classes_, probabilities)},
    }
