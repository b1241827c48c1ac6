"""t2tlite-serve: predictions over HTTP in TensorFlow Serving's REST format
(POST /v1/models/NAME:predict), from an export or a trained output_dir."""
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-serve"
FV = cli.new_flags()
flags.DEFINE_string("export_dir", None, "The SavedModel to serve, as "
                    "written by t2tlite-exporter.", flag_values=FV)
flags.DEFINE_string("output_dir", None, "Instead of --export_dir: a trained "
                    "run, exported in memory at start.", flag_values=FV)
flags.DEFINE_string("problem", None, "With --output_dir: which of the run's "
                    "problems to serve (an alias of it works too).",
                    flag_values=FV)
flags.DEFINE_string("decode_hparams", "", "With --output_dir: the search "
                    "settings, e.g. beam_size=1 for greedy search.",
                    flag_values=FV)
flags.DEFINE_string("model_name", None, "The NAME in /v1/models/NAME that "
                    "clients call (default: the problem's name).",
                    flag_values=FV)
flags.DEFINE_string("host", "127.0.0.1", "Address to bind; anything but "
                    "loopback exposes the model to the network.",
                    flag_values=FV)
flags.DEFINE_integer("port", 8501, "The port to listen on; 0 picks any "
                     "free one (the address is printed).", flag_values=FV)
flags.DEFINE_integer("max_batch_size", 32, "The most inputs, from one or "
                     "several requests, that run in one model call.",
                     flag_values=FV)
flags.DEFINE_float("batch_timeout_ms", 5.0, "How long a request waits for "
                   "others to share its batch, in milliseconds.",
                   flag_values=FV)
flags.DEFINE_integer("max_request_bytes", 1 << 20, "The largest request body "
                     "accepted; a larger one gets HTTP 413.", flag_values=FV)
flags.DEFINE_integer("max_instances", 64, "The most inputs accepted in one "
                     "request.", flag_values=FV)
flags.DEFINE_integer("max_input_chars", 2000, "The longest text input "
                     "accepted, in characters.", flag_values=FV)


def main(fv):
  from t2tlite.serve import serving
  if bool(fv.export_dir) == bool(fv.output_dir):
    cli.fail(PROG, "give exactly one of --export_dir and --output_dir")
  for name in ("max_batch_size", "max_request_bytes", "max_instances",
               "max_input_chars"):
    if fv[name].value < 1:
      cli.fail(PROG, f"--{name} must be at least 1")
  if fv.export_dir:
    predictor = serving.Predictor.from_export_dir(fv.export_dir)
  else:
    predictor = serving.Predictor.from_output_dir(
        fv.output_dir, cli.output_dir_problem(fv.output_dir, fv.problem),
        decode_hparams=fv.decode_hparams)
  name = fv.model_name or predictor.metadata.get("problem", "model")
  limits = serving.Limits(fv.max_request_bytes, fv.max_instances,
                          fv.max_input_chars)
  try:
    server = serving.Server(predictor, name, fv.host, fv.port, limits,
                            fv.max_batch_size, fv.batch_timeout_ms)
  except OSError as e:
    cli.fail(PROG, f"cannot listen on {fv.host}:{fv.port}: {e.strerror}")
  print(f"serving {server.url}", flush=True)
  try:
    server.serve_forever()
  finally:
    server.server_close()


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
