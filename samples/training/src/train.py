#!/usr/bin/env python3
"""Train a logistic-regression classifier on a small CSV dataset (Python standard library only).

Usage (as an Azure ML command job, see ../job.yml):
    python train.py --data <csv file or folder> --lr 0.1 --epochs 300 --model <output folder>

The last CSV column is the binary label (0/1); every other column is a numeric feature.
Rows are split deterministically: every 5th row is held out for evaluation.

Tracking: when MLFLOW_TRACKING_URI is set (Azure ML sets it for every job, with
MLFLOW_RUN_ID and MLFLOW_TRACKING_TOKEN), parameters and metrics are logged over the plain
MLflow REST API (`/api/2.0/mlflow/runs/log-batch`) with urllib. `azureml://host/...` tracking
URIs are reached as `https://host/...`, as the azureml-mlflow plugin does. TLS trust comes from
SSL_CERT_FILE / REQUESTS_CA_BUNDLE when set. Without a tracking URI the metrics are only printed.

Output: <model>/model.json (weights + feature scaling), <model>/MLmodel-like metadata in
<model>/model_meta.json, and <model>/metrics.json.
"""
import argparse
import csv
import json
import math
import os
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


def fail(msg: str, code: int = 2):
    print(f"error: {msg}", file=sys.stderr, flush=True)
    sys.exit(code)


# ---------------------------------------------------------------- MLflow over REST
class Tracker:
    def __init__(self) -> None:
        uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
        self.enabled = uri.startswith(("http://", "https://", "azureml://"))
        if uri.startswith("azureml://"):
            uri = "https://" + uri[len("azureml://"):]
        self.base = uri.rstrip("/")
        self.token = os.environ.get("MLFLOW_TRACKING_TOKEN", "")
        self.run_id = os.environ.get("MLFLOW_RUN_ID", "")
        cafile = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
        self.ssl = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
        self.pending_metrics: list = []
        if self.enabled and not self.run_id:
            exp = self._experiment_id(os.environ.get("MLFLOW_EXPERIMENT_NAME", "Default"))
            run = self.call("runs/create", {"experiment_id": exp, "start_time": now_ms(), "run_name": "train"})
            self.run_id = run["run"]["info"]["run_id"]
        if self.enabled:
            print(f"tracking to {self.base} as run {self.run_id}", flush=True)

    def _experiment_id(self, name: str) -> str:
        try:
            return self.call(f"experiments/get-by-name?experiment_name={urllib.parse.quote(name)}", None)["experiment"]["experiment_id"]
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise
        return self.call("experiments/create", {"name": name})["experiment_id"]

    def call(self, op: str, body):
        url = f"{self.base}/api/2.0/mlflow/{op}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        for attempt in range(5):
            try:
                with urllib.request.urlopen(req, context=self.ssl, timeout=30) as resp:
                    raw = resp.read()
                    return json.loads(raw) if raw else {}
            except urllib.error.HTTPError as e:
                if e.code in (429, 500, 502, 503, 504) and attempt < 4:
                    time.sleep(0.2 * 2 ** attempt)
                    continue
                raise
            except urllib.error.URLError:
                if attempt < 4:
                    time.sleep(0.2 * 2 ** attempt)
                    continue
                raise

    def log_params(self, params: dict) -> None:
        if self.enabled:
            self.call("runs/log-batch", {"run_id": self.run_id, "params": [{"key": k, "value": str(v)} for k, v in params.items()]})

    def metric(self, key: str, value: float, step: int = 0) -> None:
        self.pending_metrics.append({"key": key, "value": float(value), "timestamp": now_ms(), "step": step})

    def flush(self) -> None:
        if self.enabled and self.pending_metrics:
            # MLflow limits a batch to 1000 metrics.
            for i in range(0, len(self.pending_metrics), 1000):
                self.call("runs/log-batch", {"run_id": self.run_id, "metrics": self.pending_metrics[i:i + 1000]})
        self.pending_metrics = []

    def set_tag(self, key: str, value: str) -> None:
        if self.enabled:
            self.call("runs/set-tag", {"run_id": self.run_id, "key": key, "value": value})


def now_ms() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------- data
def find_csv(path: str) -> str:
    if os.path.isdir(path):
        files = sorted(f for f in os.listdir(path) if f.lower().endswith(".csv"))
        if not files:
            fail(f"--data folder {path} contains no .csv file")
        return os.path.join(path, files[0])
    if not os.path.isfile(path):
        fail(f"--data {path} does not exist")
    return path


def load(path: str):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if len(rows) < 10:
        fail(f"{path}: need a header and at least 9 rows, got {len(rows)} lines")
    header, body = rows[0], rows[1:]
    X, y = [], []
    for n, r in enumerate(body, start=2):
        try:
            vals = [float(v) for v in r]
        except ValueError:
            fail(f"{path}:{n}: non-numeric value in {r}")
        if vals[-1] not in (0.0, 1.0):
            fail(f"{path}:{n}: label must be 0 or 1, got {r[-1]}")
        X.append(vals[:-1])
        y.append(int(vals[-1]))
    return header[:-1], header[-1], X, y


def standardise(X, mean=None, std=None):
    d = len(X[0])
    if mean is None:
        mean = [sum(r[j] for r in X) / len(X) for j in range(d)]
        std = [math.sqrt(sum((r[j] - mean[j]) ** 2 for r in X) / len(X)) or 1.0 for j in range(d)]
    return [[(r[j] - mean[j]) / std[j] for j in range(d)] for r in X], mean, std


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1 / (1 + math.exp(-z))
    e = math.exp(z)
    return e / (1 + e)


def predict_proba(w, b, X):
    return [sigmoid(sum(wj * xj for wj, xj in zip(w, x)) + b) for x in X]


def log_loss(p, y) -> float:
    eps = 1e-12
    return -sum(yi * math.log(max(pi, eps)) + (1 - yi) * math.log(max(1 - pi, eps)) for pi, yi in zip(p, y)) / len(y)


def scores(p, y):
    pred = [1 if pi >= 0.5 else 0 for pi in p]
    tp = sum(1 for a, b in zip(pred, y) if a == 1 and b == 1)
    fp = sum(1 for a, b in zip(pred, y) if a == 1 and b == 0)
    fn = sum(1 for a, b in zip(pred, y) if a == 0 and b == 1)
    acc = sum(1 for a, b in zip(pred, y) if a == b) / len(y)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"accuracy": acc, "precision": precision, "recall": recall, "f1": f1}


# ---------------------------------------------------------------- main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="CSV file, or a folder holding one")
    ap.add_argument("--lr", type=float, default=0.1, help="learning rate (> 0)")
    ap.add_argument("--epochs", type=int, default=300, help="full-batch gradient steps (1..100000)")
    ap.add_argument("--l2", type=float, default=0.0, help="L2 penalty (>= 0)")
    ap.add_argument("--model", required=True, help="output folder for the trained model")
    args = ap.parse_args()
    if not (args.lr > 0) or math.isinf(args.lr):
        fail(f"--lr must be a positive number, got {args.lr}")
    if not 1 <= args.epochs <= 100000:
        fail(f"--epochs must be between 1 and 100000, got {args.epochs}")
    if args.l2 < 0:
        fail(f"--l2 must be >= 0, got {args.l2}")

    path = find_csv(args.data)
    features, label, X, y = load(path)
    train_idx = [i for i in range(len(X)) if i % 5 != 4]
    test_idx = [i for i in range(len(X)) if i % 5 == 4]
    Xtr, mean, std = standardise([X[i] for i in train_idx])
    ytr = [y[i] for i in train_idx]
    Xte, _, _ = standardise([X[i] for i in test_idx], mean, std)
    yte = [y[i] for i in test_idx]
    print(f"data: {path} ({len(X)} rows, features {features}, label {label}); train {len(ytr)}, test {len(yte)}", flush=True)

    tracker = Tracker()
    tracker.log_params({"learning_rate": args.lr, "epochs": args.epochs, "l2": args.l2,
                        "n_train": len(ytr), "n_test": len(yte), "features": ",".join(features)})
    tracker.set_tag("mlflow.source.name", "train.py")

    d = len(features)
    w, b = [0.0] * d, 0.0
    n = len(ytr)
    report_every = max(1, args.epochs // 20)
    for epoch in range(1, args.epochs + 1):
        p = predict_proba(w, b, Xtr)
        grad_w = [sum((pi - yi) * x[j] for pi, yi, x in zip(p, ytr, Xtr)) / n + args.l2 * w[j] for j in range(d)]
        grad_b = sum(pi - yi for pi, yi in zip(p, ytr)) / n
        w = [wj - args.lr * gj for wj, gj in zip(w, grad_w)]
        b -= args.lr * grad_b
        if epoch % report_every == 0 or epoch == args.epochs:
            loss = log_loss(predict_proba(w, b, Xtr), ytr)
            if not math.isfinite(loss):
                fail(f"training diverged at epoch {epoch} (loss {loss}); lower --lr", 3)
            tracker.metric("loss", loss, epoch)
            print(f"epoch {epoch:5d}  loss {loss:.5f}", flush=True)
            tracker.flush()

    test = scores(predict_proba(w, b, Xte), yte)
    train = scores(predict_proba(w, b, Xtr), ytr)
    for k, v in test.items():
        tracker.metric(k, v)
    tracker.metric("train_accuracy", train["accuracy"])
    tracker.metric("test_loss", log_loss(predict_proba(w, b, Xte), yte))
    tracker.flush()
    print("test metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in test.items()), flush=True)

    os.makedirs(args.model, exist_ok=True)
    model = {"type": "logistic_regression", "features": features, "label": label,
             "weights": w, "bias": b, "mean": mean, "std": std, "threshold": 0.5}
    with open(os.path.join(args.model, "model.json"), "w") as f:
        json.dump(model, f, indent=2)
    with open(os.path.join(args.model, "metrics.json"), "w") as f:
        json.dump({"test": test, "train": train}, f, indent=2)
    with open(os.path.join(args.model, "model_meta.json"), "w") as f:
        json.dump({"flavor": "custom", "framework": "python-stdlib", "scoring_script": "samples/scoring/score.py",
                   "input_example": {"data": [X[0]]}, "run_id": tracker.run_id or None}, f, indent=2)
    print(f"model written to {args.model}", flush=True)


if __name__ == "__main__":
    main()
