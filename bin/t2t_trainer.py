"""t2tlite-trainer: trains (or resumes) a model on one or more problems."""
import json
import os
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-trainer"
FV = cli.new_flags()
flags.DEFINE_string("problems", None, "The problems to train on together, "
                    "joined by '-', e.g. translate_ende-image_fashion_mnist "
                    "(P_rev is P with inputs and targets swapped).",
                    flag_values=FV)
flags.DEFINE_string("problem", None, "A single problem to train on (the same "
                    "as --problems with one name).", flag_values=FV)
flags.DEFINE_string("model", None, "The registered model to train, e.g. "
                    "multimodel or transformer (--registry_help lists "
                    "them).", flag_values=FV)
flags.DEFINE_string("hparams_set", None, "The registered hyperparameter set "
                    "to start from, e.g. multimodel_tiny.", flag_values=FV)
flags.DEFINE_string("hparams", "", "Overrides of the set's values, "
                    "key=value joined by ',', e.g. "
                    "hidden_size=256,learning_rate=0.05.", flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where t2tlite-datagen wrote the "
                    "problems' shards and vocabularies.", flag_values=FV)
flags.DEFINE_string("output_dir", None, "Where the run lives: checkpoints, "
                    "its config (t2tlite_run.json), eval.jsonl, "
                    "train_loss.jsonl and TensorBoard summaries. Training "
                    "again into the same directory resumes the run.",
                    flag_values=FV)
flags.DEFINE_integer("train_steps", 1000, "Train until the step counter "
                     "reaches this total; a resumed run counts the steps it "
                     "already did, and stops there too.", flag_values=FV)
flags.DEFINE_integer("eval_every", 500, "Every N steps, save a checkpoint "
                     "and evaluate every problem on its dev split (loss, "
                     "accuracy, log-perplexity, appended to eval.jsonl); the "
                     "last step always does both.", flag_values=FV)
flags.DEFINE_integer("eval_steps", 50, "Dev batches per problem at each "
                     "evaluation; 0 evaluates the whole dev split.",
                     flag_values=FV)
flags.DEFINE_integer("log_every", 100, "Every N steps, log the loss, "
                     "steps/s, tokens/s, the time left to --train_steps "
                     "(ETA) and each problem's share of the steps so far.",
                     flag_values=FV)
flags.DEFINE_integer("keep_checkpoints", 5, "How many of the newest "
                     "checkpoints to keep in --output_dir; older ones are "
                     "deleted as new ones are saved.", flag_values=FV)
flags.DEFINE_string("mixing", "round_robin", "How each step's problem is "
                    "chosen: round_robin (in turn), uniform (at random), "
                    "proportional (by training-set size), temperature:T "
                    "(sizes to the power 1/T), or weights:a=w,b=w (relative "
                    "weights; unlisted problems get 0).", flag_values=FV)
flags.DEFINE_integer("eval_decode", 0, "Also decode this many dev examples "
                     "per problem at each evaluation and report the "
                     "problem's own metric (BLEU, accuracy, WER, F1).",
                     flag_values=FV)
flags.DEFINE_string("loss_weights", "", "Per-problem loss weights, "
                    "problem=weight joined by ',' (e.g. a=2,b=0.5); a "
                    "problem left out weighs 1.", flag_values=FV)
flags.DEFINE_string("rate_caps", "", "Per-problem caps on the share of "
                    "steps, problem=fraction joined by ',' (e.g. a=0.5); the "
                    "excess goes to the other problems.", flag_values=FV)
flags.DEFINE_enum("distribution", "", ["", "mirrored", "multi_worker"],
                  "How training is spread over devices. Leave it out for "
                  "one device; mirrored trains in sync on every local GPU "
                  "(or --devices); multi_worker runs one process per host, "
                  "set up by --worker_hosts and --task_index or by "
                  "TF_CONFIG. batch_size stays the global batch either "
                  "way.", flag_values=FV)
flags.DEFINE_string("worker_hosts", "", "With --distribution=multi_worker: "
                    "every worker's host:port joined by ',', the same list "
                    "on every worker.", flag_values=FV)
flags.DEFINE_integer("task_index", None, "With --distribution=multi_worker: "
                     "this process's position in --worker_hosts (0 is the "
                     "chief, which alone writes to --output_dir).",
                     flag_values=FV)
flags.DEFINE_string("warm_start_from", None, "Another run's --output_dir to "
                    "start from: the body and the modality nets of the "
                    "vocabularies and label sets both runs have are loaded "
                    "from its newest checkpoint; new problems' modality "
                    "nets, the optimiser and the step start fresh. Needs "
                    "the same model and sizes; ignored once this run has a "
                    "checkpoint of its own (it resumes).", flag_values=FV)
flags.DEFINE_string("devices", "", "With --distribution=mirrored: the "
                    "devices to use, e.g. /gpu:0,/gpu:1 (default: every "
                    "GPU, else the CPU).", flag_values=FV)
flags.DEFINE_bool("deterministic", False, "Deterministic TensorFlow ops: "
                  "the same losses run to run and across a resume, at some "
                  "speed cost (also set by the environment variable "
                  "T2TLITE_DETERMINISTIC=1).", flag_values=FV)


def parse_problem_map(prog, flag, text):
  out = {}
  for item in filter(None, (t.strip() for t in (text or "").split(","))):
    name, _, value = item.partition("=")
    try:
      out[name.strip()] = float(value)
    except ValueError:
      cli.fail(prog, f"malformed --{flag} item {item!r}: expected "
               "problem=number")
  return out


def problem_list(prog, fv):
  if fv.problems and fv.problem:
    cli.fail(prog, "give --problems or --problem, not both")
  text = fv.problems or fv.problem
  if not text:
    cli.fail(prog, "--problems (or --problem) is required")
  names = text.split("-") if fv.problems else [text]
  if any(not n.strip() for n in names):
    cli.fail(prog, f"malformed --problems={text!r}: names are joined by "
             "single '-'")
  return [n.strip() for n in names]


def check_distinct(prog, names):
  """Two names of one problem (an alias and its target) would train the
  same data under two names: an error."""
  from t2tlite import registry  # pylint: disable=import-outside-toplevel
  seen = {}
  for n in names:
    canonical = registry.canonical_problem_name(n)
    if canonical in seen:
      if seen[canonical] == n:
        cli.fail(prog, f"{n} is listed twice")
      cli.fail(prog, f"{seen[canonical]} and {n} are one problem (both "
               f"name {canonical}); list it once")
    seen[canonical] = n


def main(fv):
  from t2tlite import registry
  from t2tlite.decode import eval_hook
  from t2tlite.train import trainer
  names = problem_list(PROG, fv)
  cli.require(PROG, fv, "model", "hparams_set", "data_dir", "output_dir")
  for n in names:
    registry.problem(n)
  check_distinct(PROG, names)
  registry.model(fv.model)
  registry.hparams(fv.hparams_set).override(fv.hparams)
  weights = parse_problem_map(PROG, "loss_weights", fv.loss_weights)
  caps = parse_problem_map(PROG, "rate_caps", fv.rate_caps)
  for n in list(weights) + list(caps):
    if n not in names:
      cli.fail(PROG, f"'{n}' in --loss_weights/--rate_caps is not one of "
               f"the problems ({', '.join(names)})")
  results = trainer.train(
      names, fv.model, fv.hparams_set, fv.data_dir, fv.output_dir,
      fv.train_steps, hparams_overrides=fv.hparams,
      eval_every=fv.eval_every, eval_steps=fv.eval_steps,
      log_every=fv.log_every, mixing=fv.mixing, loss_weights=weights,
      rate_caps=caps, keep_checkpoints=fv.keep_checkpoints,
      after_eval=(eval_hook.decoded_metrics(fv.eval_decode)
                  if fv.eval_decode else None),
      distribution=fv.distribution,
      worker_hosts=fv.worker_hosts, task_index=fv.task_index,
      devices=fv.devices, warm_start_from=fv.warm_start_from or None,
      deterministic=fv.deterministic or bool(
          os.environ.get("T2TLITE_DETERMINISTIC")))
  print(json.dumps(results, indent=1, sort_keys=True))


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
