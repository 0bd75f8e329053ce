"""The iris classifier as part of a development stack.

It talks to three other services of the Compose stack, each by its service name:
  redis   caches predictions and keeps labelled feedback       (REDIS_URL)
  qdrant  stores flowers' feature vectors for similarity search  (QDRANT_URL)
  mlflow  records evaluation runs                              (MLFLOW_TRACKING_URI)

Endpoints:
  GET  /health            the process is up (liveness; cheap, used by the healthcheck)
  GET  /ready             each dependency reachable or not; 200 only when all are and the model is loaded
  POST /predict           {"features": [4 numbers]} -> class, probabilities, and whether the answer was cached
  POST /feedback          {"id", "features", "label"}: a labelled example, kept in Redis
  GET  /feedback/{id}
  PUT  /flowers/{name}    {"features", "species"}: store a flower's vector in Qdrant
  POST /similar           {"features", "limit"}: the stored flowers nearest to these features
  POST /runs              {"name", "metrics"}: record an evaluation run in MLflow
  GET  /runs/{name}
"""

import json
import os
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import joblib
import redis
from fastapi import FastAPI, HTTPException, Response, status
from pydantic import BaseModel, Field

MODEL_PATH = Path(os.environ.get("MODEL_PATH", Path(__file__).resolve().parent.parent / "model" / "model.joblib"))
REDIS_URL = os.environ.get("REDIS_URL", "redis://redis:6379/0")
QDRANT_URL = os.environ.get("QDRANT_URL", "http://qdrant:6333").rstrip("/")
MLFLOW_URL = os.environ.get("MLFLOW_TRACKING_URI", "http://mlflow:5000").rstrip("/")
COLLECTION = "flowers"
EXPERIMENT = "iris-api"
CACHE_SECONDS = 24 * 3600

state: dict = {"model": None, "error": "not loaded yet"}
cache = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2, decode_responses=True)
http = httpx.Client(timeout=5)


@asynccontextmanager
async def lifespan(_app: FastAPI):
    try:
        state["model"], state["error"] = joblib.load(MODEL_PATH), None
    except Exception as error:  # keep serving, so /ready can say what went wrong
        state["error"] = f"cannot load {MODEL_PATH}: {error}"
    yield


app = FastAPI(title="Iris classifier (Compose stack)", lifespan=lifespan)


class Flower(BaseModel):
    features: list[float] = Field(min_length=4, max_length=4, description="sepal and petal length and width, in cm")


class Feedback(Flower):
    id: str = Field(min_length=1, max_length=200)
    label: str


class Stored(Flower):
    species: str = ""


class Similar(Flower):
    limit: int = Field(default=3, ge=1, le=50)


class Run(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    metrics: dict[str, float] = Field(default_factory=dict)


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}


@app.get("/ready")
def ready(response: Response) -> dict:
    checks = {
        "model": _check(lambda: state["model"] is not None or _fail(state["error"])),
        "redis": _check(cache.ping),
        "qdrant": _check(lambda: http.get(f"{QDRANT_URL}/readyz", timeout=2).raise_for_status()),
        "mlflow": _check(lambda: http.get(f"{MLFLOW_URL}/health", timeout=2).raise_for_status()),
    }
    everything = all(check["ok"] for check in checks.values())
    if not everything:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"ready": everything, "dependencies": checks}


@app.post("/predict")
def predict(flower: Flower) -> dict:
    model = state["model"]
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state["error"])
    key = "predict:" + json.dumps(flower.features)
    try:
        hit = cache.get(key)
    except redis.RedisError:
        hit = None  # the cache is a speed-up, never a reason to fail
    if hit:
        return {**json.loads(hit), "cached": True}
    probabilities = model.predict_proba([flower.features])[0]
    best = int(probabilities.argmax())
    answer = {
        "class": str(model.classes_[best]),
        "probabilities": {str(name): round(float(p), 4) for name, p in zip(model.classes_, probabilities)},
    }
    try:
        cache.setex(key, CACHE_SECONDS, json.dumps(answer))
    except redis.RedisError:
        pass
    return {**answer, "cached": False}


@app.post("/feedback")
def add_feedback(feedback: Feedback) -> dict:
    with _unavailable("redis"):
        cache.hset(f"feedback:{feedback.id}", mapping={"label": feedback.label, "features": json.dumps(feedback.features)})
    return {"id": feedback.id, "stored": True}


@app.get("/feedback/{item_id}")
def get_feedback(item_id: str) -> dict:
    with _unavailable("redis"):
        found = cache.hgetall(f"feedback:{item_id}")
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no feedback {item_id!r}")
    return {"id": item_id, "label": found["label"], "features": json.loads(found["features"])}


@app.put("/flowers/{name}")
def store_flower(name: str, flower: Stored) -> dict:
    with _unavailable("qdrant"):
        _ensure_collection()
        point = {"id": _point_id(name), "vector": flower.features, "payload": {"name": name, "species": flower.species}}
        http.put(f"{QDRANT_URL}/collections/{COLLECTION}/points", params={"wait": "true"},
                 json={"points": [point]}).raise_for_status()
    return {"name": name, "stored": True}


@app.get("/flowers/{name}")
def get_flower(name: str) -> dict:
    with _unavailable("qdrant"):
        found = http.get(f"{QDRANT_URL}/collections/{COLLECTION}/points/{_point_id(name)}")
        if found.status_code == 404:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no flower {name!r}")
        found.raise_for_status()
    point = found.json()["result"]
    return {**point["payload"], "features": point["vector"]}


@app.post("/similar")
def similar(query: Similar) -> dict:
    with _unavailable("qdrant"):
        _ensure_collection()
        found = http.post(f"{QDRANT_URL}/collections/{COLLECTION}/points/search",
                          json={"vector": query.features, "limit": query.limit, "with_payload": True})
        found.raise_for_status()
    return {"neighbours": [{**hit["payload"], "distance": hit["score"]} for hit in found.json()["result"]]}


@app.post("/runs")
def record_run(run: Run) -> dict:
    with _unavailable("mlflow"):
        experiment = _experiment_id()
        now = int(time.time() * 1000)
        created = _mlflow("runs/create", {"experiment_id": experiment, "run_name": run.name, "start_time": now})
        run_id = created["run"]["info"]["run_id"]
        metrics = [{"key": k, "value": v, "timestamp": now, "step": 0} for k, v in run.metrics.items()]
        _mlflow("runs/log-batch", {"run_id": run_id, "metrics": metrics})
        _mlflow("runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": now})
    return {"name": run.name, "run_id": run_id}


@app.get("/runs/{name}")
def get_run(name: str) -> dict:
    with _unavailable("mlflow"):
        found = _mlflow("runs/search", {"experiment_ids": [_experiment_id()],
                                        "filter": f"attributes.run_name = '{name.replace(chr(39), '')}'"})
    runs = found.get("runs") or []
    if not runs:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no run named {name!r}")
    metrics = {m["key"]: m["value"] for m in runs[0].get("data", {}).get("metrics", [])}
    return {"name": name, "run_id": runs[0]["info"]["run_id"], "metrics": metrics}


def _check(probe) -> dict:
    try:
        probe()
        return {"ok": True}
    except Exception as error:  # report any failure as "not reachable", with what went wrong
        return {"ok": False, "detail": f"{type(error).__name__}: {error}"[:300]}


def _fail(message: str):
    raise RuntimeError(message)


class _unavailable:
    """Turn a dependency's failure into 503 naming the dependency."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        return self

    def __exit__(self, kind, error, _traceback):
        if error is not None and not isinstance(error, HTTPException):
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{self.name} is unavailable: {error}") from error
        return False


def _point_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _ensure_collection() -> None:
    if http.get(f"{QDRANT_URL}/collections/{COLLECTION}").status_code == 404:
        http.put(f"{QDRANT_URL}/collections/{COLLECTION}",
                 json={"vectors": {"size": 4, "distance": "Euclid"}}).raise_for_status()


def _mlflow(endpoint: str, body: dict) -> dict:
    answer = http.post(f"{MLFLOW_URL}/api/2.0/mlflow/{endpoint}", json=body)
    answer.raise_for_status()
    return answer.json()


def _experiment_id() -> str:
    found = http.get(f"{MLFLOW_URL}/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": EXPERIMENT})
    if found.status_code == 200:
        return found.json()["experiment"]["experiment_id"]
    return _mlflow("experiments/create", {"name": EXPERIMENT})["experiment_id"]
