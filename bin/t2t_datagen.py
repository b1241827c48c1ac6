"""t2tlite-datagen: writes a problem's sharded TFRecords and vocabulary."""
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-datagen"
FV = cli.new_flags()
flags.DEFINE_string("problem", None, "Problem name, or several separated by "
                    "commas.", flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where shards and vocabularies go.",
                    flag_values=FV)
flags.DEFINE_string("tmp_dir", "/tmp/t2tlite_tmp", "Downloads and "
                    "intermediate files.", flag_values=FV)


def main(fv):
  from t2tlite import datagen, registry
  cli.require(PROG, fv, "problem", "data_dir")
  names = [n.strip() for n in fv.problem.split(",") if n.strip()]
  for n in names:
    registry.problem(n)  # unknown names fail before any work
  timings = datagen.generate(names, fv.data_dir, fv.tmp_dir)
  for name, sec in timings.items():
    print(f"{name}: datagen took {sec:.1f}s", file=sys.stderr)


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
