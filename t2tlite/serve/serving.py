"""Predictions over HTTP in TensorFlow Serving's REST format, with batching.

  POST /v1/models/NAME:predict   (also /v1/models/NAME/versions/N:predict)
    {"instances": ["text", {"b64": "..."}, {"inputs": "text"}, ...]}
        -> {"predictions": [...]}: one per instance, the output itself when
           the model has one output (text), else {"outputs", "labels",
           "scores"} (class labels).
    {"inputs": ["text", ...]}  -> {"outputs": ...}: TF Serving's columnar
           form (a list per output name when there are several).
  GET  /v1/models/NAME           -> the model's status, as TF Serving says it.

Binary inputs (images, WAV files) are sent as {"b64": "<base64>"}, as TF
Serving expects. Bad requests get a 4xx status and {"error": "..."}.
Concurrent requests are merged into one batch (up to max_batch_size inputs,
waiting at most batch_timeout_ms for company), so many small requests cost
about as much as one big one. Binds 127.0.0.1 unless told otherwise.
"""
import base64
import binascii
import http.server
import json
import logging
import queue
import re
import threading
import time

import numpy as np

from t2tlite import errors

log = logging.getLogger("t2tlite")

_PATH = re.compile(r"^/v1/models/([^/:]+)(?:/versions/(\d+))?(:predict)?$")


class RequestError(errors.UserError, ValueError):
  """A bad request: its message goes back to the client with `status`."""

  def __init__(self, message, status=400):
    super().__init__(message)
    self.status = status


# --- the model --------------------------------------------------------------
class Predictor:
  """Raw inputs (list of str/bytes) -> dict of numpy outputs, batched."""

  def __init__(self, fn, metadata):
    self._fn = fn
    self.metadata = metadata
    self.kind = metadata.get("input_kind", "text")
    self.output_names = list(metadata.get("outputs", ["outputs"]))

  @classmethod
  def from_export_dir(cls, export_dir):
    import os
    import tensorflow as tf
    from t2tlite.serve import export
    if not os.path.isfile(os.path.join(export_dir, "saved_model.pb")):
      raise FileNotFoundError(f"{export_dir} holds no SavedModel; run "
                              "t2tlite-exporter first")
    meta = export.read_metadata(export_dir)
    if "tensorflow_text" in meta.get("needs", ["tensorflow_text"]):
      try:
        import tensorflow_text  # noqa: F401  (registers the ops)
      except ImportError:
        pass  # a model without its ops fails to load with TF's own message
    loaded = tf.saved_model.load(export_dir)
    sig = loaded.signatures[export.SIGNATURE]
    fn = lambda batch: sig(**{export.INPUT_NAME: tf.constant(batch,
                                                              tf.string)})
    predictor = cls(fn, meta)
    predictor._keep = loaded  # pylint: disable=attribute-defined-outside-init
    return predictor

  @classmethod
  def from_output_dir(cls, output_dir, problem=None, data_dir=None,
                      decode_hparams="", top_k=None):
    from t2tlite.serve import export
    module = export.build(output_dir, problem, data_dir, decode_hparams,
                          top_k)
    return cls(module, module.metadata)

  def warm_up(self):
    """One call before the first request (the first run of a graph is
    slow); only text models have an input that needs no file."""
    if self.kind == "text":
      self(["warm up"])
    return self

  def __call__(self, batch):
    out = self._fn(list(batch))
    return {k: out[k].numpy() for k in self.output_names}


def _jsonable(x):
  if isinstance(x, bytes):
    return x.decode("utf-8", "replace")
  if isinstance(x, np.ndarray):
    return [_jsonable(v) for v in x]
  if isinstance(x, np.generic):
    return _jsonable(x.item())
  if isinstance(x, float):
    return round(x, 6)
  return x


# --- batching ---------------------------------------------------------------
class _Job:
  def __init__(self, items):
    self.items = items
    self.done = threading.Event()
    self.result = self.error = None


class Batcher:
  """Merges concurrent jobs into batches on one worker thread."""

  def __init__(self, predictor, max_batch_size=32, batch_timeout_ms=5.0):
    self.predictor = predictor
    self.max_batch_size = max(1, int(max_batch_size))
    self.timeout = batch_timeout_ms / 1000.0
    self._queue = queue.Queue()
    self.batches = 0  # how many model calls served how many jobs
    self.jobs = 0
    self._thread = threading.Thread(target=self._loop, daemon=True,
                                    name="t2tlite-batcher")
    self._thread.start()

  def submit(self, items, timeout=120.0):
    job = _Job(items)
    self._queue.put(job)
    if not job.done.wait(timeout):
      raise RequestError("the model did not answer in time", 503)
    if job.error is not None:
      raise job.error
    return job.result

  def _collect(self):
    jobs = [self._queue.get()]
    size = len(jobs[0].items)
    deadline = time.monotonic() + self.timeout
    while size < self.max_batch_size:
      left = deadline - time.monotonic()
      try:
        job = self._queue.get(timeout=left) if left > 0 else (
            self._queue.get_nowait())
      except queue.Empty:
        break
      jobs.append(job)
      size += len(job.items)
    return jobs

  def _run(self, jobs):
    items = [x for j in jobs for x in j.items]
    out = self.predictor(items)
    start = 0
    for j in jobs:
      n = len(j.items)
      j.result = {k: v[start:start + n] for k, v in out.items()}
      start += n

  def _loop(self):
    while True:
      jobs = self._collect()
      self.batches += 1
      self.jobs += len(jobs)
      try:
        self._run(jobs)
      except Exception:  # pylint: disable=broad-except
        # One bad input (a corrupt image) fails its whole batch: rerun
        # each job alone so that only its own request gets the error.
        for j in jobs:
          try:
            self._run([j])
          except Exception as e:  # pylint: disable=broad-except
            j.error = RequestError(f"cannot process the input: "
                                   f"{_short(e)}", 400)
      for j in jobs:
        j.done.set()


def _short(e):
  msg = getattr(e, "message", None) or str(e)
  return " ".join(msg.split())[:300]


# --- requests ---------------------------------------------------------------
class Limits:
  def __init__(self, max_request_bytes=1 << 20, max_instances=64,
               max_input_chars=2000):
    self.max_request_bytes = max_request_bytes
    self.max_instances = max_instances
    self.max_input_chars = max_input_chars


def _value(v, n, kind, limits):
  """One instance's input -> str (text) or bytes (images, audio)."""
  if isinstance(v, dict):
    if set(v) == {"b64"}:
      try:
        raw = base64.b64decode(v["b64"], validate=True)
      except (binascii.Error, TypeError, ValueError):
        raise RequestError(f"instance {n}: 'b64' is not valid base64"
                           ) from None
      if kind == "text":
        try:
          v = raw.decode("utf-8")
        except UnicodeDecodeError:
          raise RequestError(f"instance {n}: text is not UTF-8") from None
      else:
        return raw
    elif set(v) == {"inputs"}:
      return _value(v["inputs"], n, kind, limits)
    else:
      raise RequestError(f"instance {n}: expected a value, {{\"b64\": ...}}"
                         f" or {{\"inputs\": ...}}, got keys {sorted(v)}")
  if not isinstance(v, str):
    raise RequestError(f"instance {n}: expected a string, got "
                       f"{type(v).__name__}")
  if kind != "text":
    raise RequestError(f"instance {n}: {kind} inputs must be sent as "
                       "{\"b64\": \"<base64 of the file>\"}")
  if len(v) > limits.max_input_chars:
    raise RequestError(f"instance {n}: input of {len(v)} characters is "
                       f"longer than the limit of {limits.max_input_chars}")
  return v


def parse_request(body, kind, limits):
  """Request bytes -> (list of inputs, row format?, scalar?)."""
  try:
    req = json.loads(body)
  except (ValueError, UnicodeDecodeError) as e:
    raise RequestError(f"malformed JSON: {e}") from None
  if not isinstance(req, dict):
    raise RequestError("the request must be a JSON object with "
                       "\"instances\" or \"inputs\"")
  sig = req.get("signature_name", "serving_default")
  if sig != "serving_default":
    raise RequestError(f"unknown signature_name '{sig}' (the model has "
                       "'serving_default')")
  unknown = set(req) - {"instances", "inputs", "signature_name"}
  if unknown or ("instances" in req) == ("inputs" in req):
    raise RequestError("the request must have exactly one of \"instances\" "
                       "or \"inputs\"" + (f" (unknown fields: "
                                          f"{sorted(unknown)})"
                                          if unknown else ""))
  rows = "instances" in req
  data = req["instances"] if rows else req["inputs"]
  scalar = False
  if not rows and isinstance(data, dict) and set(data) == {"inputs"}:
    data = data["inputs"]
  if not rows and not isinstance(data, list):
    data, scalar = [data], True
  if not isinstance(data, list) or not data:
    raise RequestError("\"instances\" must be a non-empty list")
  if len(data) > limits.max_instances:
    raise RequestError(f"{len(data)} inputs in one request; the limit is "
                       f"{limits.max_instances}", 413)
  return [_value(v, n, kind, limits) for n, v in enumerate(data)], rows, (
      scalar)


def format_response(out, names, rows, scalar):
  if rows:
    n = len(out[names[0]])
    if len(names) == 1:
      return {"predictions": [_jsonable(out[names[0]][i]) for i in range(n)]}
    return {"predictions": [{k: _jsonable(out[k][i]) for k in names}
                            for i in range(n)]}
  cols = {k: _jsonable(out[k][0] if scalar else out[k]) for k in names}
  return {"outputs": cols[names[0]] if len(names) == 1 else cols}


# --- HTTP -------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
  protocol_version = "HTTP/1.1"
  timeout = 60  # seconds a client may take to send its request
  server_version = "t2tlite-serve"

  def log_message(self, fmt, *args):  # one line per request, at debug level
    log.debug("%s %s", self.address_string(), fmt % args)

  def _send(self, status, obj):
    body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
    self.send_response(status)
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(body)))
    self.end_headers()
    self.wfile.write(body)

  def _error(self, status, message):
    self._send(status, {"error": message})

  def _route(self):
    m = _PATH.match(self.path.split("?")[0])
    if not m:
      raise RequestError(f"no such path {self.path}; use "
                         f"/v1/models/{self.server.model_name}:predict", 404)
    if m.group(1) != self.server.model_name:
      raise RequestError(f"no model '{m.group(1)}'; this server serves "
                         f"'{self.server.model_name}'", 404)
    if m.group(2) not in (None, "1"):
      raise RequestError(f"no version {m.group(2)} of model "
                         f"'{m.group(1)}' (it has version 1)", 404)
    return bool(m.group(3))

  def do_GET(self):  # pylint: disable=invalid-name
    try:
      if self._route():
        raise RequestError("predict takes POST", 405)
    except RequestError as e:
      return self._error(e.status, str(e))
    self._send(200, {"model_version_status": [{
        "version": "1", "state": "AVAILABLE",
        "status": {"error_code": "OK", "error_message": ""}}]})

  def do_POST(self):  # pylint: disable=invalid-name
    limits = self.server.limits
    try:
      length = self.headers.get("Content-Length")
      if length is None or not length.isdigit():
        self.close_connection = True
        raise RequestError("a Content-Length header is required", 411)
      if int(length) > limits.max_request_bytes:
        self.close_connection = True  # the unread body cannot be skipped
        raise RequestError(f"request of {length} bytes is larger than the "
                           f"limit of {limits.max_request_bytes}", 413)
      body = self.rfile.read(int(length))
      if not self._route():
        raise RequestError("POST to /v1/models/NAME:predict", 404)
      items, rows, scalar = parse_request(body, self.server.kind, limits)
      out = self.server.batcher.submit(items)
      self._send(200, format_response(out, self.server.output_names, rows,
                                      scalar))
    except RequestError as e:
      self._error(e.status, str(e))
    except Exception as e:  # pylint: disable=broad-except
      log.exception("request failed")
      self._error(500, f"internal error: {_short(e)}")


class Server(http.server.ThreadingHTTPServer):
  """The HTTP server; `serve_forever()` runs it, `shutdown()` stops it."""

  daemon_threads = True
  allow_reuse_address = True
  request_queue_size = 128  # connections waiting for accept (default 5)

  def __init__(self, predictor, model_name, host="127.0.0.1", port=8501,
               limits=None, max_batch_size=32, batch_timeout_ms=5.0):
    super().__init__((host, port), _Handler)
    self.model_name = model_name
    self.kind = predictor.kind
    self.output_names = predictor.output_names
    self.limits = limits or Limits()
    self.batcher = Batcher(predictor.warm_up(), max_batch_size,
                           batch_timeout_ms)

  @property
  def url(self):
    host, port = self.server_address[:2]
    return f"http://{host}:{port}/v1/models/{self.model_name}:predict"

  def start(self):
    """Serves on a background thread (for tests and notebooks)."""
    t = threading.Thread(target=self.serve_forever, daemon=True,
                         name="t2tlite-serve")
    t.start()
    return self

  def stop(self):
    self.shutdown()
    self.server_close()
