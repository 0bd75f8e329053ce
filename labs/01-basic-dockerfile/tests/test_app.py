"""Tests for the service itself. Run them outside Docker: pip install -r requirements-dev.txt && pytest.
They must not end up in the image (that is what .dockerignore is for)."""

from fastapi.testclient import TestClient

from app.main import app


def test_health_and_ready():
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").status_code == 200


def test_predict_known_flowers():
    with TestClient(app) as client:
        for features, expected in (([5.1, 3.5, 1.4, 0.2], "setosa"), ([6.3, 3.3, 6.0, 2.5], "virginica")):
            assert client.post("/predict", json={"features": features}).json()["class"] == expected


def test_predict_rejects_wrong_length():
    with TestClient(app) as client:
        assert client.post("/predict", json={"features": [1.0, 2.0]}).status_code == 422
