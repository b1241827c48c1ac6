"""What every benchmark script shares: where its JSON goes, writing it,
and the machine it ran on (CPU model, TensorFlow's and PyTorch's float32
GEMM rates), printed and stored with every result: a ratio between two
machines, or against a peer framework, means little without them."""
import os
import time

from t2tlite.data import data_io
from t2tlite.experiments import provenance

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def add_json_flag(parser, script):
  """--json, by default benchmarks/results/<script>.json."""
  parser.add_argument("--json", default=os.path.join(RESULTS, f"{script}.json"),
                      help="where the figures are written as JSON")


def _rate(matmul, n, repeats):
  matmul()  # warm-up
  start = time.perf_counter()
  for _ in range(repeats):
    matmul()
  return 2 * n ** 3 * repeats / (time.perf_counter() - start) / 1e9


def gemm_rates(n=1024, repeats=10):
  """float32 GEMM GFLOP/s of TensorFlow and of PyTorch (None if absent)."""
  import tensorflow as tf
  a = tf.random.normal([n, n])
  tf_rate = _rate(lambda: tf.linalg.matmul(a, a).numpy(), n, repeats)
  try:
    import torch  # optional: the bench extra
  except ImportError:
    torch_rate = None
  else:
    t = torch.randn(n, n)
    torch_rate = _rate(lambda: torch.mm(t, t), n, repeats)
  return {"tensorflow_fp32_gflops": round(tf_rate, 1),
          "pytorch_fp32_gflops": (None if torch_rate is None
                                  else round(torch_rate, 1))}


def machine():
  """The CPU model, its cores and both frameworks' GEMM rates."""
  info = {"cpu": provenance.cpu_model(), "cpus": len(os.sched_getaffinity(0)),
          **gemm_rates()}
  torch_rate = info["pytorch_fp32_gflops"]
  torch_text = (f"{torch_rate} GFLOP/s" if torch_rate is not None else
                "not installed (pip install -e .[bench])")
  print(f"machine: {info['cpu']}, {info['cpus']} CPUs; fp32 GEMM "
        f"TensorFlow {info['tensorflow_fp32_gflops']} GFLOP/s, PyTorch "
        f"{torch_text}")
  return info


def write_json(path, results):
  """Writes the results with the machine's description beside them."""
  if isinstance(results, dict) and "machine" not in results:
    results = {**results, "machine": machine()}
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  data_io.write_json(path, results, indent=1)
  print(f"wrote {path}")
