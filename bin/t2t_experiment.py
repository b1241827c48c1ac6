"""t2tlite-experiment: runs one of the paper's experiments at small scale
(joint_vs_single, parsing_transfer, ablations, mixing) and writes a
Markdown report with learning-curve plots.

Each finished run x seed is written to REPORT_DIR/runs/RUN_seedK.json and
reused as is by any later call, on any machine (commit REPORT_DIR); a run
without it is trained by t2tlite-trainer in a process of its own, in
WORK_DIR/RUN_seedK (checkpoints, resumed when present; never committed).
"""
import os
import shlex
import subprocess
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
flags.DEFINE_string("hparams", "", "Overrides of --hparams_set for every "
                    "run (e.g. dropout=0.2); each run's own switches and its "
                    "seed are applied after them.", flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where t2tlite-datagen wrote the "
                    "problems' data (run it first).", flag_values=FV)
flags.DEFINE_string("report_dir", None, "Where the report (report.md, "
                    "results.json, curves.png) and each finished run's "
                    "result (runs/RUN_seedK.json) are written: meant to be "
                    "committed, e.g. docs/experiments/NAME.", flag_values=FV)
flags.DEFINE_string("work_dir", None, "Where the runs' training output_dirs "
                    "(checkpoints) and logs go; not inside --report_dir. "
                    "Default: t2t_train/experiments/BASENAME_OF_REPORT_DIR "
                    "under the current folder (git-ignored at the "
                    "repository's root).", flag_values=FV)
flags.DEFINE_integer("steps_per_problem", 500, "Training steps per problem "
                     "in every run (a joint run of n problems trains n times "
                     "as many steps).", flag_values=FV)
flags.DEFINE_integer("test_examples", 0, "How many test examples of each "
                     "problem every run decodes and scores; 0: the whole "
                     "test split.", flag_values=FV)
flags.DEFINE_string("seeds", "1", "Random seeds joined by ','; each run is "
                    "repeated per seed, so more than one shows the spread.",
                    flag_values=FV)
flags.DEFINE_integer("resamples", 1000, "Paired-bootstrap resamples per "
                     "comparison (at least 1000).", flag_values=FV)
flags.DEFINE_boolean("allow_few_resamples", False, "Accept --resamples "
                     "below 1000 (quick looks only: the intervals' tails are "
                     "then coarse).", flag_values=FV)
flags.DEFINE_string("single_dir", None, "With --experiment=mixing: a "
                    "joint_vs_single --report_dir whose single-task results "
                    "each mixing's metrics are normalised by (default: by "
                    "the round_robin run).", flag_values=FV)
flags.DEFINE_string("train_runs", "all", "Which runs this call may train, "
                    "joined by ',' (e.g. joint,single_image_fashion_mnist), "
                    "'all', or 'none' (report on the committed runs only); "
                    "the others are reused when committed, else left out.",
                    flag_values=FV)


def hparams_text(overrides, seed, base=""):
  """{'use_moe': False}, 3, 'dropout=0.2' ->
  'dropout=0.2,use_moe=false,seed=3' (the trainer's --hparams)."""
  items = [f"{k}={str(v).lower() if isinstance(v, bool) else v}"
           for k, v in overrides.items()]
  return ",".join(([base] if base else []) + items + [f"seed={seed}"])


def command_line(fv):
  """The command as given: the program and the flags set on it."""
  return shlex.join([PROG] + [
      f"--{name}={flag.value}" if not flag.boolean else
      f"--{'' if flag.value else 'no'}{name}"
      for name, flag in cli.defined_flags(fv) if flag.present])


def trainer_fn(fv, eval_steps=10, log_every=100):
  """experiments' train_fn: t2tlite-trainer in a process of its own."""
  from t2tlite import errors  # pylint: disable=import-outside-toplevel

  def train(problems, output_dir, steps, hparams_overrides, mixing, seed,
            eval_every, log_path):
    cmd = [sys.executable, "-m", "t2tlite.bin.t2t_trainer",
           f"--problems={'-'.join(problems)}", f"--model={fv.model}",
           f"--hparams_set={fv.hparams_set}",
           f"--hparams={hparams_text(hparams_overrides, seed, fv.hparams)}",
           f"--data_dir={fv.data_dir}", f"--output_dir={output_dir}",
           f"--train_steps={steps}", f"--mixing={mixing}",
           f"--eval_every={eval_every}", f"--eval_steps={eval_steps}",
           f"--log_every={log_every}"]
    if fv.usr_dir:
      cmd.append(f"--usr_dir={fv.usr_dir}")
    with open(log_path, "a") as f:
      f.write("$ " + shlex.join(cmd) + "\n")
      f.flush()
      proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
      raise errors.RunFailed(f"training {output_dir} failed (exit "
                             f"{proc.returncode}); see {log_path}")
  return train


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
  if fv.resamples < 1000 and not fv.allow_few_resamples:
    cli.fail(PROG, f"--resamples={fv.resamples} is below 1000 (too coarse "
             "for a 95% interval); add --allow_few_resamples for a quick look")
  if fv.resamples < 1:
    cli.fail(PROG, "--resamples must be at least 1")
  work_dir = fv.work_dir or os.path.join(
      "t2t_train", "experiments",
      os.path.basename(os.path.normpath(fv.report_dir)))
  train_runs = {"all": None, "none": set()}.get(
      fv.train_runs, {r.strip() for r in fv.train_runs.split(",")
                      if r.strip()})
  report = experiments.run_experiment(
      fv.experiment, problems, fv.report_dir, work_dir, fv.data_dir,
      trainer_fn(fv), fv.steps_per_problem, test_examples=fv.test_examples,
      seeds=seeds, resamples=fv.resamples, train_runs=train_runs,
      single_dir=fv.single_dir, command=command_line(fv),
      setting=(f"Model {fv.model}, hparams set {fv.hparams_set}" +
               (f" + {fv.hparams}" if fv.hparams else "") + "; "),
      log=lambda m: print(m, file=sys.stderr))
  print(report)


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
