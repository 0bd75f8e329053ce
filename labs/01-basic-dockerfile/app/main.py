"""An iris species classifier behind a small HTTP API.

Endpoints:
  GET  /health   the process is up (cheap; used by HEALTHCHECK)
  GET  /live     the process can still do work (for a liveness probe)
  GET  /ready    the model is loaded (503 with the reason until it is)
  POST /predict  {"features": [sepal_length, sepal_width, petal_length, petal_width]} -> {"class": ...}
"""

import os
from contextlib import asynccontextmanager
from pathlib import Path

import joblib
from fastapi import FastAPI, HTTPException, Response, status
from pydantic import BaseModel, Field

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "model" / "model.joblib"
MODEL_PATH = Path(os.environ.get("MODEL_PATH", DEFAULT_MODEL))

state: dict = {"model": None, "error": "not loaded yet"}


@asynccontextmanager
async def lifespan(_app: FastAPI):
    try:
        state["model"], state["error"] = joblib.load(MODEL_PATH), None
    except Exception as error:  # keep serving, so /ready can say what went wrong
        state["error"] = f"cannot load {MODEL_PATH}: {error}"
    yield


app = FastAPI(title="Iris classifier", lifespan=lifespan)


class Flower(BaseModel):
    features: list[float] = Field(min_length=4, max_length=4, description="sepal and petal length and width, in cm")


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/live")
def live() -> dict:
    return {"live": True}


@app.get("/ready")
def ready(response: Response) -> dict:
    if state["model"] is None:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"ready": False, "reason": state["error"]}
    return {"ready": True, "model": str(MODEL_PATH)}


@app.post("/predict")
def predict(flower: Flower) -> dict:
    model = state["model"]
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state["error"])
    probabilities = model.predict_proba([flower.features])[0]
    best = int(probabilities.argmax())
    return {
        "class": str(model.classes_[best]),
        "probabilities": {str(name): round(float(p), 4) for name, p in zip(model.classes_, probabilities)},
    }
