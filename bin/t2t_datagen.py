"""t2tlite-datagen: writes a problem's sharded TFRecords and vocabulary."""
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-datagen"
FV = cli.new_flags()
flags.DEFINE_string("problem", None, "The problem to generate data for, or "
                    "several joined by ','; an alias or a P_rev writes its "
                    "target's files (--registry_help lists the problems).",
                    flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where the sharded TFRecords and the "
                    "vocabularies are written (the trainer's --data_dir).",
                    flag_values=FV)
flags.DEFINE_string("tmp_dir", "/tmp/t2tlite_tmp", "Where downloads and "
                    "intermediate files are kept, and reused by the next "
                    "datagen.", flag_values=FV)


def main(fv):
  from t2tlite.data import datagen
  from t2tlite import registry
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
