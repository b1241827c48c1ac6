"""t2tlite-exporter: writes one problem of a trained model as a SavedModel
whose serving signature takes raw inputs (text, image or WAV bytes)."""
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-exporter"
FV = cli.new_flags()
flags.DEFINE_string("output_dir", None, "The trained run to export (the "
                    "trainer's --output_dir).", flag_values=FV)
flags.DEFINE_string("problem", None, "Which of the run's problems to export "
                    "(an alias of it works too); needed only when the run "
                    "has several.", flag_values=FV)
flags.DEFINE_string("export_dir", None, "Where to write the SavedModel (a "
                    "new folder; for TensorFlow Serving, a version number "
                    "such as models/NAME/1).", flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where datagen wrote the problem's "
                    "data (default: the directory the run was trained on).",
                    flag_values=FV)
flags.DEFINE_string("decode_hparams", "", "Search settings baked into the "
                    "export, e.g. beam_size=4,alpha=0.6 or top_k=5.",
                    flag_values=FV)
flags.DEFINE_integer("checkpoint_average", 0, "Export the mean of the model "
                     "variables of the run's last N checkpoints instead of "
                     "its newest checkpoint (0: no averaging). More than "
                     "the run holds is an error.", flag_values=FV)


def main(fv):
  from t2tlite.serve import export
  cli.require(PROG, fv, "output_dir", "export_dir")
  if fv.checkpoint_average < 0:
    cli.fail(PROG, f"--checkpoint_average={fv.checkpoint_average}: give a "
             "number of checkpoints (0: no averaging)")
  path = export.export(fv.output_dir, fv.export_dir,
                       cli.output_dir_problem(fv.output_dir, fv.problem),
                       fv.data_dir, fv.decode_hparams,
                       average=fv.checkpoint_average or None)
  meta = export.read_metadata(path)
  averaged = meta.get("checkpoints_averaged")
  print(f"exported {meta['problem']} ({meta['input_kind']} inputs) to {path}"
        + (f" (the average of {', '.join(averaged)})" if averaged else ""))


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
