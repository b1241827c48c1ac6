"""Load test of t2tlite-serve: many concurrent requests from this process.

Starts `t2tlite-serve --export_dir=E --port=0` (or uses --url of a running
server; loopback addresses only), sends --requests requests from
--concurrency threads for at most --max_seconds, and prints throughput,
latency percentiles and errors as JSON (exit status 1 if any request
failed).

  python benchmarks/bench_serve.py --export_dir=/tmp/zen_export \
      --requests=400 --concurrency=16 --max_seconds=120
Inputs are the lines of --inputs (a text file), or the Zen of Python.
"""
import argparse
import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse

import numpy as np


def zen_lines():
  import codecs
  import contextlib
  import io
  with contextlib.redirect_stdout(io.StringIO()):
    import this  # pylint: disable=import-outside-toplevel
  return [l for l in codecs.decode(this.s, "rot13").splitlines() if l][1:]


def start_server(export_dir, extra):
  cmd = [sys.executable, "-m", "t2tlite.bin.t2t_serve",
         f"--export_dir={export_dir}", "--port=0", "--host=127.0.0.1"] + extra
  proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
  line = proc.stdout.readline()  # "serving URL" once the model is loaded
  if not line.startswith("serving "):
    proc.kill()
    raise SystemExit(f"server did not start (exit {proc.wait()})")
  return proc, line.split()[1]


def run_load(url, payloads, requests, concurrency, max_seconds):
  parts = urllib.parse.urlsplit(url)
  if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
    raise SystemExit("only loopback servers may be load-tested")
  lock = threading.Lock()
  latencies, errors, counter = [], [], [0]
  deadline = time.monotonic() + max_seconds

  def worker():
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    while time.monotonic() < deadline:
      with lock:
        n = counter[0]
        if n >= requests:
          break
        counter[0] += 1
      body = payloads[n % len(payloads)]
      t0 = time.monotonic()
      try:
        conn.request("POST", parts.path, body,
                     {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        ok = resp.status == 200 and "predictions" in json.loads(data)
        err = None if ok else f"{resp.status}: {data[:200]!r}"
      except (OSError, http.client.HTTPException, ValueError) as e:
        err = f"{type(e).__name__}: {e}"
        conn.close()
        conn = http.client.HTTPConnection(parts.hostname, parts.port,
                                          timeout=60)
      dt = time.monotonic() - t0
      with lock:
        (errors.append(err) if err else latencies.append(dt))
    conn.close()

  threads = [threading.Thread(target=worker) for _ in range(concurrency)]
  t0 = time.monotonic()
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  wall = time.monotonic() - t0
  lat = np.array(latencies) * 1000.0
  pct = (lambda q: round(float(np.percentile(lat, q)), 1)) if len(lat) else (
      lambda q: None)
  return {"requests": len(latencies) + len(errors), "ok": len(latencies),
          "errors": len(errors), "first_errors": errors[:3],
          "concurrency": concurrency, "seconds": round(wall, 2),
          "throughput_rps": round(len(latencies) / wall, 1),
          "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99),
                         "max": pct(100)}}


def main():
  ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  ap.add_argument("--export_dir", help="start a server on this export")
  ap.add_argument("--url", help="or test this running server's :predict URL")
  ap.add_argument("--inputs", help="text file, one input per line")
  ap.add_argument("--image", help="or an image file, sent as b64")
  ap.add_argument("--requests", type=int, default=400)
  ap.add_argument("--concurrency", type=int, default=16)
  ap.add_argument("--per_request", type=int, default=1,
                  help="instances per request")
  ap.add_argument("--max_seconds", type=float, default=120.0)
  ap.add_argument("--server_flags", default="",
                  help="extra t2tlite-serve flags, space separated")
  args = ap.parse_args()
  if bool(args.export_dir) == bool(args.url):
    ap.error("give exactly one of --export_dir and --url")
  if args.image:
    with open(args.image, "rb") as f:
      items = [{"b64": base64.b64encode(f.read()).decode("ascii")}]
  elif args.inputs:
    with open(args.inputs, encoding="utf-8") as f:
      items = [l.rstrip("\n") for l in f if l.strip()]
  else:
    items = zen_lines()
  k = max(1, args.per_request)
  payloads = [json.dumps({"instances": [items[(i + j) % len(items)]
                                        for j in range(k)]}).encode()
              for i in range(len(items))]
  proc = None
  url = args.url
  if args.export_dir:
    proc, url = start_server(args.export_dir, args.server_flags.split())
  try:
    report = run_load(url, payloads, args.requests, args.concurrency,
                      args.max_seconds)
  finally:
    if proc is not None:
      proc.terminate()
      proc.wait(timeout=30)
  report["instances_per_request"] = k
  report["cpu_count"] = os.cpu_count()
  print(json.dumps(report, indent=1))
  return 1 if report["errors"] else 0


if __name__ == "__main__":
  sys.exit(main())
