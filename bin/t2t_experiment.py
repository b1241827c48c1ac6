"""t2tlite-experiment: runs one of the paper's experiments at small scale
(joint_vs_single, parsing_transfer, ablations, mixing) and writes a
Markdown report with learning-curve plots."""
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-experiment"
FV = cli.new_flags()
flags.DEFINE_enum("experiment", None, ["joint_vs_single", "parsing_transfer",
                                       "ablations", "mixing"],
                  "Which of the paper's experiments to run at small "
                  "scale.", flag_values=FV)
flags.DEFINE_string("problems", "translate_ende_ddtp-image_fashion_mnist-"
                    "speech_tts_en-parsing_english_silver-"
                    "image_caption_tuxpaint", "The problems the experiment "
                    "trains on, joined by '-'.", flag_values=FV)
flags.DEFINE_string("model", "multimodel", "The registered model that every "
                    "run of the experiment trains (--registry_help lists "
                    "them).", flag_values=FV)
flags.DEFINE_string("hparams_set", "multimodel_tiny", "The registered "
                    "hyperparameter set every run starts from.",
                    flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where t2tlite-datagen wrote the "
                    "problems' data (run it first).", flag_values=FV)
flags.DEFINE_string("report_dir", None, "Where each run's output_dir, the "
                    "Markdown report and its plots are written.",
                    flag_values=FV)
flags.DEFINE_integer("steps_per_problem", 500, "Training steps per problem "
                     "in every run (a joint run of n problems trains n times "
                     "as many steps).", flag_values=FV)
flags.DEFINE_integer("test_examples", 200, "How many test examples of each "
                     "problem every run decodes and scores.",
                     flag_values=FV)
flags.DEFINE_string("seeds", "1", "Random seeds joined by ','; each run is "
                    "repeated per seed, so more than one shows the spread.",
                    flag_values=FV)


def main(fv):
  from t2tlite import experiments, registry
  cli.require(PROG, fv, "experiment", "data_dir", "report_dir")
  problems = [p for p in fv.problems.split("-") if p]
  for p in problems:
    registry.problem(p)
  registry.model(fv.model)
  registry.hparams(fv.hparams_set)
  try:
    seeds = [int(s) for s in fv.seeds.split(",") if s.strip()]
  except ValueError:
    cli.fail(PROG, f"malformed --seeds={fv.seeds!r}: integers joined by ','")
  report = experiments.run_experiment(
      fv.experiment, problems, fv.report_dir, fv.model, fv.hparams_set,
      fv.data_dir, fv.steps_per_problem, test_examples=fv.test_examples,
      seeds=seeds, log=lambda m: print(m, file=sys.stderr))
  print(report)


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
