"""Measurements in processes of their own (standard library only).

Two frameworks timed in one process disturb each other: PyTorch's OpenMP
threads started after TensorFlow had trained ran about 1.4x slower than
alone. So every timed measurement runs in a fresh process: `run(script,
kind, **kwargs)` starts `python script --worker REQUEST`, and that script
calls `serve(handlers)` first thing, which answers the request with one
JSON line and the process's peak resident memory.
"""
import json
import subprocess
import sys

FLAG = "--worker"


def peak_rss_gib():
  """This process's peak resident memory (VmHWM: unlike getrusage's
  ru_maxrss it does not inherit the parent's peak across fork and exec)."""
  with open("/proc/self/status", encoding="ascii") as f:
    for line in f:
      if line.startswith("VmHWM:"):
        return int(line.split()[1]) / 2 ** 20
  return None


def run(script, kind, **kwargs):
  """script's answer to {"kind": kind, **kwargs}, from a fresh process."""
  request = json.dumps({"kind": kind, **kwargs})
  proc = subprocess.run([sys.executable, script, FLAG, request],
                        capture_output=True, text=True, check=False)
  lines = proc.stdout.strip().splitlines()
  if proc.returncode != 0 or not lines:
    err = proc.stderr.strip().splitlines()[-1:] or ["no output"]
    raise RuntimeError(f"{script} {kind} failed (exit {proc.returncode}): "
                       f"{err[0]}")
  return json.loads(lines[-1])


def serve(handlers):
  """When this process was started by `run`, answers and exits."""
  if len(sys.argv) != 3 or sys.argv[1] != FLAG:
    return
  request = json.loads(sys.argv[2])
  out = handlers[request.pop("kind")](**request)
  out["peak_rss_gib"] = peak_rss_gib()
  print(json.dumps(out), flush=True)
  sys.exit(0)
