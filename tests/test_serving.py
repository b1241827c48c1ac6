"""t2tlite-serve: TF Serving's REST format, batching, and 4xx for bad input."""
import base64
import http.client
import json
import os
import subprocess
import sys
import threading

import pytest
import usr_dir_example  # noqa: F401  (registers zen_reverse)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def zen_export(zen_run, tmp_path_factory):
  from t2tlite.serve import export
  path = str(tmp_path_factory.mktemp("serve") / "1")
  return export.export(zen_run, path, decode_hparams="beam_size=1")


@pytest.fixture(scope="module")
def server(zen_export):
  from t2tlite.serve import serving
  predictor = serving.Predictor.from_export_dir(zen_export)
  srv = serving.Server(predictor, "zen", port=0,
                       limits=serving.Limits(max_request_bytes=20000,
                                             max_instances=8,
                                             max_input_chars=300),
                       max_batch_size=16, batch_timeout_ms=20).start()
  yield srv
  srv.stop()


@pytest.fixture(scope="module")
def expected(zen_run):
  from t2tlite.decode import decoder
  lines = usr_dir_example.zen_lines()[:8]
  dec = decoder.Decoder(zen_run, decode_hparams_text="beam_size=1")
  return lines, dec.decode_lines("zen_reverse", lines)


def post(srv, body, path="/v1/models/zen:predict", headers=None):
  host, port = srv.server_address[:2]
  conn = http.client.HTTPConnection(host, port, timeout=60)
  if not isinstance(body, bytes):
    body = json.dumps(body).encode()
  conn.request("POST", path, body, headers or {})
  resp = conn.getresponse()
  out = resp.status, json.loads(resp.read())
  conn.close()
  return out


def test_binds_loopback(server):
  assert server.server_address[0] == "127.0.0.1"


def test_predict_formats_equal_decoder(server, expected):
  lines, want = expected
  b64 = {"b64": base64.b64encode(lines[2].encode()).decode()}
  status, out = post(server, {"instances": [lines[0], {"inputs": lines[1]},
                                            b64]})
  assert status == 200
  assert out == {"predictions": want[:3]}
  status, out = post(server, {"inputs": lines[3:6]},
                     "/v1/models/zen/versions/1:predict")
  assert (status, out) == (200, {"outputs": want[3:6]})
  status, out = post(server, {"inputs": lines[6],
                              "signature_name": "serving_default"})
  assert (status, out) == (200, {"outputs": want[6]})


@pytest.mark.parametrize("body,status,words", [
    (b'{"instances": ["a"', 400, "malformed JSON"),
    (b'["a"]', 400, "JSON object"),
    ({"instance": ["a"]}, 400, "exactly one of"),
    ({"instances": ["a"], "inputs": ["b"]}, 400, "exactly one of"),
    ({"instances": []}, 400, "non-empty"),
    ({"instances": [3]}, 400, "expected a string"),
    ({"instances": [{"text": "a"}]}, 400, "got keys"),
    ({"instances": [{"b64": "%%%"}]}, 400, "base64"),
    ({"instances": ["x" * 301]}, 400, "limit of 300"),
    ({"instances": ["a"] * 9}, 413, "limit is 8"),
    ({"instances": ["a"], "signature_name": "other"}, 400, "signature"),
    ({"instances": ["a" * 250] * 80}, 413, "limit of 20000"),
])
def test_bad_requests_get_4xx_json_errors(server, body, status, words):
  got, out = post(server, body)
  assert got == status
  assert words in out["error"]


def test_wrong_paths_and_methods(server):
  assert post(server, {"instances": ["a"]}, "/v1/models/other:predict")[0] == (
      404)
  assert post(server, {"instances": ["a"]}, "/v2/zen")[0] == 404
  host, port = server.server_address[:2]
  conn = http.client.HTTPConnection(host, port, timeout=30)
  conn.request("GET", "/v1/models/zen")
  resp = conn.getresponse()
  assert resp.status == 200
  assert json.loads(resp.read())["model_version_status"][0]["state"] == (
      "AVAILABLE")
  conn.close()


def test_concurrent_requests_are_batched(server, expected):
  lines, want = expected
  before = (server.batcher.batches, server.batcher.jobs)
  results = [None] * 24
  start = threading.Barrier(24)

  def client(i):
    start.wait()
    results[i] = post(server, {"instances": [lines[i % 8]]})

  threads = [threading.Thread(target=client, args=(i,)) for i in range(24)]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  for i, (status, out) in enumerate(results):
    assert status == 200
    assert out["predictions"] == [want[i % 8]]
  batches = server.batcher.batches - before[0]
  jobs = server.batcher.jobs - before[1]
  assert jobs == 24
  assert batches < jobs  # several requests shared a model call


def test_load_test_script_from_a_second_process(zen_export):
  proc = subprocess.run(
      [sys.executable, os.path.join(ROOT, "benchmarks", "bench_serve.py"),
       f"--export_dir={zen_export}", "--requests=60", "--concurrency=8",
       "--max_seconds=60"], capture_output=True, text=True, timeout=180)
  assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
  report = json.loads(proc.stdout)
  assert report["ok"] == 60 and report["errors"] == 0
  assert report["latency_ms"]["p50"] > 0


def test_serve_cli_errors_are_one_line(tmp_path):
  from conftest import run_cli
  proc = run_cli("t2t_serve", f"--export_dir={tmp_path}", check=False)
  assert proc.returncode == 2
  assert "no SavedModel" in proc.stderr
  assert len(proc.stderr.strip().splitlines()) == 1
