#!/usr/bin/env python3
"""Local stand-in for the Azure ML inference server (azureml-inference-server-http).

One process per online deployment. Python standard library only.

Contract (the same one Azure ML gives a scoring script):
  * the scoring script is imported as a module; its module-level ``init()`` is called once,
    before the server accepts requests; ``run(raw_data: str)`` is called for every POST /score
    with the request body decoded as text;
  * ``AZUREML_MODEL_DIR`` (set by the parent, not here) points at the folder the model was
    downloaded to; the deployment's environment variables are in the environment as well;
  * what ``run()`` returns is serialised with ``json.dumps`` (a returned ``str`` becomes a JSON
    string, as the real server does); ``bytes`` are returned as they are.

Endpoints: ``GET /`` (liveness/readiness: "Healthy"), ``POST /score``, ``GET /score`` (405-style hint).
If importing the script or ``init()`` raises, the traceback is printed and the process exits 1:
its stdout/stderr is the deployment's container log.

Readiness: once init() returned and the socket is bound, the port is written (atomically) to
``--ready-file``; the parent waits for that file or for the process to exit.

Usage: host.py --script /abs/path/score.py [--host 127.0.0.1] [--port 0] --ready-file FILE
"""
import argparse
import datetime
import http.server
import importlib.util
import json
import os
import socketserver
import sys
import threading
import time
import traceback

VERSION = "0.0.0-emulator"


def log(level, msg):
    ts = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3]
    print(f"{ts} {level[0]} [{os.getpid()}] azmlinfsrv - {msg}", flush=True)


def load_script(path):
    module_dir = os.path.dirname(path)
    if module_dir not in sys.path:
        sys.path.insert(0, module_dir)
    name = os.path.splitext(os.path.basename(path))[0] or "score"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load scoring script {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class ThreadingServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_handler(module, lock):
    run = getattr(module, "run")

    class Handler(http.server.BaseHTTPRequestHandler):
        server_version = "azmlinfsrv/" + VERSION
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as separate writes: avoid the 40 ms delayed-ACK stall

        def log_message(self, fmt, *args):  # request log goes to the container log like the real server
            log("INFO", "%s %s" % (self.address_string(), fmt % args))

        def _send(self, status, body, content_type="application/json"):
            data = body if isinstance(body, bytes) else body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-ms-run-function-failed", "True" if status >= 500 else "False")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/health", "/liveness", "/readiness"):
                self._send(200, "Healthy", "text/plain; charset=utf-8")
            elif path == "/score":
                self._send(200, "GET is not supported", "text/plain; charset=utf-8")
            else:
                self._send(404, json.dumps({"message": "Not found"}))

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            if path != "/score":
                self._send(404, json.dumps({"message": "Not found"}))
                return
            text = raw.decode("utf-8", errors="replace")
            started = time.monotonic()
            try:
                with lock:
                    result = run(text)
            except Exception as exc:  # the scoring script's failure: 500, traceback in the log
                log("ERROR", "Encountered Exception: " + "".join(traceback.format_exception(exc)).rstrip())
                self._send(500, json.dumps({"message": "An unexpected error occurred in scoring script. "
                                                       "Check the logs for more info."}))
                return
            if isinstance(result, (bytes, bytearray)):
                self._send(200, bytes(result), "application/octet-stream")
            else:
                try:
                    body = json.dumps(result)
                except (TypeError, ValueError) as exc:
                    log("ERROR", "run() returned a value that is not JSON serialisable: %s" % exc)
                    self._send(500, json.dumps({"message": "run() output is not JSON serialisable"}))
                    return
                self._send(200, body)
            log("INFO", "run() took %.1f ms" % ((time.monotonic() - started) * 1000))

    return Handler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--script", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ready-file", required=True)
    args = ap.parse_args()

    print("Azure ML Inferencing HTTP server (emulator) v" + VERSION, flush=True)
    print("", flush=True)
    print("Server Settings", flush=True)
    print("---------------", flush=True)
    print("Entry Script Name: " + args.script, flush=True)
    print("Model Directory: " + os.environ.get("AZUREML_MODEL_DIR", "<not set>"), flush=True)
    print("Worker Count: 1", flush=True)
    print("Worker Timeout (seconds): 300", flush=True)
    print("Server Port: %s" % (args.port or "<dynamic>"), flush=True)
    print("Application Insights Enabled: false", flush=True)
    print("", flush=True)

    if not os.path.isfile(args.script):
        log("ERROR", "Scoring script not found: %s" % args.script)
        sys.exit(2)
    log("INFO", "Starting up app insights client")
    log("INFO", "Found user script at " + args.script)
    try:
        module = load_script(args.script)
    except BaseException as exc:  # SystemExit from the script counts as a crash too
        log("ERROR", "Failed to load the user script %s:\n%s" % (args.script, "".join(traceback.format_exception(exc)).rstrip()))
        sys.exit(1)
    if not callable(getattr(module, "run", None)):
        log("ERROR", "The user script %s does not define a run() function" % args.script)
        sys.exit(1)
    init = getattr(module, "init", None)
    if callable(init):
        log("INFO", "Users's init has started")
        try:
            init()
        except BaseException as exc:
            log("ERROR", "User's init function failed\n" + "".join(traceback.format_exception(exc)).rstrip())
            log("ERROR", "Encountered Exception %s" % exc)
            sys.exit(1)
        log("INFO", "Users's init has completed successfully")
    else:
        log("INFO", "No init() in the user script; skipping")

    server = ThreadingServer((args.host, args.port), make_handler(module, threading.Lock()))
    port = server.server_address[1]
    tmp = args.ready_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"port": port, "pid": os.getpid()}, f)
    os.replace(tmp, args.ready_file)
    log("INFO", "Listening at: http://%s:%d" % (args.host, port))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: (log("INFO", "Received SIGTERM, shutting down"), sys.exit(0)))
    main()
