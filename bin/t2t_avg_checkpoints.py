"""t2tlite-avg-checkpoints: writes the mean of a trained run's last N
checkpoints as a run of its own (t2tlite.train.checkpoint_avg), which
t2tlite-decoder, t2tlite-exporter and t2tlite.load take as --output_dir."""
import json
import os
import sys

from absl import flags

from t2tlite.bin import cli
from t2tlite.train import checkpoint_avg

PROG = "t2tlite-avg-checkpoints"
FV = cli.new_flags()
flags.DEFINE_string("output_dir", None, "The trained run whose checkpoints "
                    "to average.", flag_values=FV)
flags.DEFINE_integer("checkpoint_average", 5, "How many of its newest "
                     "checkpoints to average.", flag_values=FV)
flags.DEFINE_string("checkpoint", None, "Average the checkpoints that end "
                    "with this one (e.g. OUTPUT_DIR/ckpt-400) instead of "
                    "the newest.", flag_values=FV)
flags.DEFINE_string("averaged_dir", None, "A new directory to write the "
                    "average to, as a run of its own that t2tlite-decoder, "
                    "t2tlite-exporter and t2tlite.load take as "
                    "--output_dir.", flag_values=FV)


def main(fv):
  """Writes the average; one line on stdout saying where."""
  cli.require(PROG, fv, "output_dir", "averaged_dir")
  path = checkpoint_avg.write_average(fv.output_dir, fv.checkpoint_average,
                                      fv.averaged_dir, fv.checkpoint)
  with open(os.path.join(fv.averaged_dir, checkpoint_avg.AVERAGED_NAME)) as f:
    names = json.load(f)["checkpoints"]
  print(f"averaged {len(names)} checkpoint{'' if len(names) == 1 else 's'} "
        f"({', '.join(names)}) into {path}")


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
