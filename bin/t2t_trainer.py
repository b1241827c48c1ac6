"""t2tlite-trainer: trains (or resumes) a model on one or more problems."""
import json
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-trainer"
FV = cli.new_flags()
flags.DEFINE_string("problems", None, "Problems joined by '-', e.g. "
                    "translate_ende_ddtp-image_fashion_mnist.", flag_values=FV)
flags.DEFINE_string("problem", None, "A single problem.", flag_values=FV)
flags.DEFINE_string("model", None, "Registered model name.", flag_values=FV)
flags.DEFINE_string("hparams_set", None, "Registered hparams set.",
                    flag_values=FV)
flags.DEFINE_string("hparams", "", "Overrides: key=value,key2=value2.",
                    flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where datagen wrote the shards.",
                    flag_values=FV)
flags.DEFINE_string("output_dir", None, "Checkpoints, config, summaries.",
                    flag_values=FV)
flags.DEFINE_integer("train_steps", 1000, "Total steps (a resumed run stops "
                     "there too).", flag_values=FV)
flags.DEFINE_integer("eval_every", 500, "Checkpoint and evaluate every N "
                     "steps.", flag_values=FV)
flags.DEFINE_integer("eval_steps", 50, "Dev batches per evaluation (0: all).",
                     flag_values=FV)
flags.DEFINE_integer("log_every", 100, "Log progress every N steps.",
                     flag_values=FV)
flags.DEFINE_integer("keep_checkpoints", 5, "Checkpoints kept.",
                     flag_values=FV)
flags.DEFINE_string("mixing", "round_robin", "round_robin | uniform | "
                    "proportional | temperature:T | weights:a=w,b=w "
                    "(relative weights).", flag_values=FV)
flags.DEFINE_integer("eval_decode", 0, "Also decode this many dev examples "
                     "per problem at each eval and report the problem's own "
                     "metric (BLEU, accuracy, WER, F1).", flag_values=FV)
flags.DEFINE_string("loss_weights", "", "Per-problem loss weights: a=2,b=0.5.",
                    flag_values=FV)
flags.DEFINE_string("rate_caps", "", "Per-problem caps on the share of "
                    "steps: a=0.5.", flag_values=FV)
flags.DEFINE_enum("distribution", "", ["", "mirrored", "multi_worker"],
                  "Leave out for one device; mirrored: every local GPU (or "
                  "--devices); multi_worker: one process per host, set up by "
                  "--worker_hosts and --task_index or by TF_CONFIG. "
                  "batch_size stays the global batch.", flag_values=FV)
flags.DEFINE_string("worker_hosts", "", "multi_worker: every worker's "
                    "host:port, the same list on every worker.",
                    flag_values=FV)
flags.DEFINE_integer("task_index", None, "multi_worker: this process's "
                     "position in --worker_hosts (0 is the chief, which "
                     "alone writes to output_dir).", flag_values=FV)
flags.DEFINE_string("devices", "", "mirrored: devices to use, e.g. "
                    "/gpu:0,/gpu:1 (default: every GPU, else the CPU).",
                    flag_values=FV)


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


def main(fv):
  from t2tlite import distribute, registry, trainer
  names = problem_list(PROG, fv)
  cli.require(PROG, fv, "model", "hparams_set", "data_dir", "output_dir")
  for n in names:
    registry.problem(n)
  registry.model(fv.model)
  registry.hparams(fv.hparams_set).override(fv.hparams)
  weights = parse_problem_map(PROG, "loss_weights", fv.loss_weights)
  caps = parse_problem_map(PROG, "rate_caps", fv.rate_caps)
  for n in list(weights) + list(caps):
    if n not in names:
      cli.fail(PROG, f"'{n}' in --loss_weights/--rate_caps is not one of "
               f"the problems ({', '.join(names)})")
  try:
    results = trainer.train(
        names, fv.model, fv.hparams_set, fv.data_dir, fv.output_dir,
        fv.train_steps, hparams_overrides=fv.hparams,
        eval_every=fv.eval_every, eval_steps=fv.eval_steps,
        log_every=fv.log_every, mixing=fv.mixing, loss_weights=weights,
        rate_caps=caps, keep_checkpoints=fv.keep_checkpoints,
        eval_decode=fv.eval_decode, distribution=fv.distribution,
        worker_hosts=fv.worker_hosts, task_index=fv.task_index,
        devices=fv.devices)
  except distribute.DistributeError as e:
    cli.fail(PROG, e)
  print(json.dumps(results, indent=1, sort_keys=True))


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
