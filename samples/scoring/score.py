"""Azure ML online-endpoint scoring script for the model trained by samples/training (stdlib only).

Azure ML calls init() once when the container starts (AZUREML_MODEL_DIR points at the registered
model's files) and run(raw_data) for every request. The model folder holds model.json, possibly one
level down (a registered folder keeps its own name under AZUREML_MODEL_DIR), so it is searched for.

Request body:  {"data": [[glucose, bmi, age, blood_pressure], ...]}
           or  {"data": [{"glucose": 150, "bmi": 35, ...}, ...]}
Response:      {"predictions": [0|1, ...], "probabilities": [p, ...]}
"""
import json
import logging
import math
import os

model = None


def _find_model_file(root: str) -> str:
    for dirpath, _dirs, files in sorted(os.walk(root)):
        if "model.json" in files:
            return os.path.join(dirpath, "model.json")
    raise FileNotFoundError(f"model.json not found under {root}")


def init():
    global model
    root = os.environ.get("AZUREML_MODEL_DIR", os.path.dirname(os.path.abspath(__file__)))
    path = _find_model_file(root)
    with open(path) as f:
        model = json.load(f)
    if model.get("type") != "logistic_regression":
        raise ValueError(f"{path}: unsupported model type {model.get('type')!r}")
    logging.info("loaded model from %s (features %s)", path, model["features"])


def _row(x):
    feats = model["features"]
    if isinstance(x, dict):
        missing = [f for f in feats if f not in x]
        if missing:
            raise ValueError(f"missing feature(s) {missing}")
        x = [x[f] for f in feats]
    if not isinstance(x, list) or len(x) != len(feats):
        raise ValueError(f"each row needs {len(feats)} values ({', '.join(feats)})")
    return [float(v) for v in x]


def run(raw_data):
    try:
        payload = json.loads(raw_data) if isinstance(raw_data, (str, bytes)) else raw_data
        rows = payload["data"] if isinstance(payload, dict) else payload
        if not isinstance(rows, list) or not rows:
            raise ValueError('body must be {"data": [[...], ...]} with at least one row')
        probs = []
        for x in rows:
            v = _row(x)
            z = model["bias"] + sum(w * (xi - m) / s for w, xi, m, s in zip(model["weights"], v, model["mean"], model["std"]))
            probs.append(1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z)))
        return {"predictions": [1 if p >= model.get("threshold", 0.5) else 0 for p in probs], "probabilities": probs}
    except Exception as e:  # the scoring server turns the returned dict into the response body
        return {"error": str(e)}
