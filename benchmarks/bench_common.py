"""What every benchmark script shares: where its JSON goes, and writing it."""
import os

from t2tlite.data import data_io

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def add_json_flag(parser, script):
  """--json, by default benchmarks/results/<script>.json."""
  parser.add_argument("--json", default=os.path.join(RESULTS, f"{script}.json"),
                      help="where the figures are written as JSON")


def write_json(path, results):
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  data_io.write_json(path, results, indent=1)
  print(f"wrote {path}")
