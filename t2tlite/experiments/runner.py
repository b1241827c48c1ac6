"""The paper's experiments at small scale: named runs, trained and scored.

An experiment is a list of runs (problems, hparams overrides, mixing), each
repeated per seed. Problems are chosen by what they are (their modalities
and metrics, `problem_kind`), not by their names. Training is a callable
the caller passes (`train_fn`, see run_experiment); this module knows no
command-line flags.

Where things go, so an experiment can run over days and machines:

  <report_dir>/runs/<run>_seed<k>.json   one finished run: its test scores,
      decoded test outputs (for the bootstrap), learning curves and budget.
      Meant to be committed: any machine reuses it as is, untrained.
  <work_dir>/<run>_seed<k>/              its training output_dir
      (checkpoints; never under report_dir). A run without its JSON is
      trained, resuming this folder when it exists.
  <work_dir>/<run>_seed<k>.log           the training log.

The plan is plan.py's; the report (tables, verdicts, plots) report.py's.
"""
import json
import os
import time

from t2tlite.data import data_io
from t2tlite.experiments import plan
from t2tlite.experiments import provenance
from t2tlite.experiments import report

# --- what a run was given -----------------------------------------------------
def steps_per_problem(output_dir):
  """Problem -> steps trained, from the trainer's train_loss.jsonl (the last
  line of each step counts: a resumed run appends the steps it redoes)."""
  path = os.path.join(output_dir, "train_loss.jsonl")
  if not os.path.exists(path):
    return {}
  by_step = {}
  with open(path) as f:
    for line in f:
      try:
        rec = json.loads(line)
        by_step[rec["step"]] = rec["problem"]
      except (ValueError, KeyError):
        continue  # a line cut short by a kill
  counts = {}
  for name in by_step.values():
    counts[name] = counts.get(name, 0) + 1
  return counts


def _batch_settings(output_dir):
  """The run's resolved batch hparams and its model and hparams set (from
  its t2tlite_run.json); ({}, {}) without one."""
  # pylint: disable-next=import-outside-toplevel
  from t2tlite.train import run_config
  cfg = run_config.read(output_dir)
  if cfg is None:
    return {}, {}
  values = cfg["hparams"].values()
  keys = ("batch_size", "image_batch_size", "audio_batch_frames")
  return ({k: values[k] for k in keys if k in values},
          {k: cfg.get(k) for k in ("model", "hparams_set")})


def budget(output_dir, problems, kinds):
  """What one run trained on: steps per problem (the trainer's loss log)
  and, from the batch settings, what those steps held. Images seen are
  exact (steps x image_batch_size: every training batch is full); target
  tokens are not logged by the trainer, so theirs is an upper bound,
  steps x batch_size (padding included)."""
  steps = steps_per_problem(output_dir)
  batch, setting = _batch_settings(output_dir)
  seen = {}
  for p in problems:
    n = steps.get(p)
    if n is None or not batch:
      seen[p] = None
    elif kinds.get(p) in ("image_classification", "caption"):
      seen[p] = {"images": n * int(batch.get("image_batch_size", 0))}
    else:
      seen[p] = {"target_tokens_at_most": n * int(batch.get("batch_size",
                                                            0))}
  return {"steps": sum(steps.values()) if steps else None,
          "steps_per_problem": steps, "batch": batch, "seen": seen,
          **setting}


# --- running ------------------------------------------------------------------
def run_paths(run_name, seed, report_dir, work_dir):
  """(result JSON, training output_dir, training log) of one run x seed."""
  stem = f"{run_name}_seed{seed}"
  return (os.path.join(report_dir, "runs", stem + ".json"),
          os.path.join(work_dir, stem), os.path.join(work_dir, stem + ".log"))


def _decoder_evaluate(data_dir):
  """evaluate_fn(output_dir, problem, limit) -> (scores, hyps, refs): greedy
  decoding of the test split with the trained run's last checkpoint."""
  loaded = {}  # run_one makes one evaluate per run: one model loaded

  def evaluate(output_dir, problem, limit):
    # pylint: disable-next=import-outside-toplevel
    from t2tlite.decode import decoder
    if output_dir not in loaded:
      loaded[output_dir] = decoder.Decoder(output_dir, data_dir,
                                           "beam_size=1,batch_size=64")
    return loaded[output_dir].evaluate(problem, "test", limit or None)
  return evaluate


def run_one(run, seed, cfg, log=print):
  """Returns one run x seed's result: its committed JSON as is when there
  is one; else trains it (resuming its output_dir) and scores its tests.

  cfg: report_dir, work_dir, train_fn, evaluate_fn, steps_per_problem,
  eval_points, test_examples (0: the whole test split), kinds.
  """
  done, out, log_path = run_paths(run["name"], seed, cfg["report_dir"],
                                  cfg["work_dir"])
  steps = cfg["steps_per_problem"] * len(run["problems"])
  if os.path.exists(done):
    result = report.load_run(done)
    made = [result.get(k) for k in ("steps_requested", "problems",
                                     "mixing", "hparams")]
    if made != [steps, run["problems"], run["mixing"], run["hparams"]]:
      log(f"warning: reusing {done} as is, though it was made with steps, "
          f"problems, mixing, hparams {made} (this command: {steps}, "
          f"{run['problems']}, {run['mixing']}, {run['hparams']})")
    return result
  os.makedirs(cfg["work_dir"], exist_ok=True)
  steps_before = sum(steps_per_problem(out).values())
  commit, dirty = provenance.code_commit()
  cpu_seconds = lambda t: (t.user + t.system + t.children_user +
                           t.children_system)
  wall, cpu = time.time(), cpu_seconds(os.times())
  cfg["train_fn"](problems=run["problems"], output_dir=out, steps=steps,
                  hparams_overrides=dict(run["hparams"]),
                  mixing=run["mixing"], seed=seed,
                  eval_every=max(1, steps // cfg["eval_points"]),
                  log_path=log_path)
  wall, cpu = time.time() - wall, cpu_seconds(os.times()) - cpu
  evaluate = cfg.get("evaluate_fn") or _decoder_evaluate(cfg["data_dir"])
  scores, decodes = {}, {}
  for p in run["problems"]:
    scores[p], hyps, refs = evaluate(out, p, cfg["test_examples"])
    decodes[p] = {"hyps": list(hyps), "refs": list(refs)}
  result = {
      "run": run["name"], "seed": seed, "problems": run["problems"],
      "hparams": run["hparams"], "mixing": run["mixing"],
      "steps_requested": steps, "steps_before": steps_before,
      "budget": budget(out, run["problems"], cfg["kinds"]),
      "train_seconds": wall, "train_cpu_seconds": cpu,
      "commit": commit, "uncommitted_changes": dirty,
      "cpu_model": provenance.cpu_model(), "cpus": os.cpu_count(),
      "test_examples": {p: len(d["refs"]) for p, d in decodes.items()},
      "scores": scores, "decodes": decodes, "curves": read_curves(out)}
  log(f"{run['name']} seed {seed}: {wall:.0f}s, {scores}")
  os.makedirs(os.path.dirname(done), exist_ok=True)
  data_io.write_json(done, result, indent=1)
  return result


def read_curves(output_dir):
  """Problem -> [(step, dev loss, share of steps so far)] (eval.jsonl)."""
  curves = {}
  path = os.path.join(output_dir, "eval.jsonl")
  if os.path.exists(path):
    for line in open(path):
      rec = json.loads(line)
      curves.setdefault(rec["problem"], []).append(
          (rec["step"], rec["loss"], rec.get("share_of_steps")))
  return curves


def run_experiment(experiment, problems, report_dir, work_dir, data_dir,
                   train_fn, steps_per_problem, eval_points=5,
                   test_examples=0, seeds=(1,), resamples=1000,
                   evaluate_fn=None, train_runs=None, single_dir=None,
                   command=None, setting="", log=print):
  """Runs (or reuses) every run x seed and writes the report.

  train_fn(problems, output_dir, steps, hparams_overrides, mixing, seed,
  eval_every, log_path) trains one run to `steps` in total, resuming
  output_dir if it holds a run; hparams_overrides is a dict, mixing a
  t2tlite.train.mixing spec. evaluate_fn(output_dir, problem, limit) ->
  (scores, hyps, refs) scores a trained run on a test split (default: the
  decoder, greedy). train_runs: names of the runs this call may train (None:
  all); a run that is neither committed nor trainable is left out of the
  report. single_dir: a joint_vs_single report_dir, whose single-task
  results the mixing report normalises by. Returns the report's Markdown.
  """
  # pylint: disable-next=import-outside-toplevel
  report_dir, work_dir = os.path.abspath(report_dir), os.path.abspath(work_dir)
  if (work_dir + os.sep).startswith(report_dir + os.sep):
    raise plan.ExperimentError(f"work_dir {work_dir} is inside report_dir "
                          f"{report_dir}: checkpoints would be committed "
                          "with the report")
  kinds = plan.problem_kinds(problems)
  sizes = (plan.train_sizes(problems, data_dir) if experiment == "mixing"
           else None)
  runs = plan.experiment_runs(experiment, problems, kinds, sizes)
  unknown = sorted(set(train_runs or ()) - {r["name"] for r in runs})
  if unknown:
    raise plan.ExperimentError(
        f"{experiment} has no run {', '.join(unknown)} "
        f"(its runs: {', '.join(r['name'] for r in runs)})")
  cfg = {"report_dir": report_dir, "work_dir": work_dir,
         "data_dir": data_dir, "train_fn": train_fn,
         "evaluate_fn": evaluate_fn, "steps_per_problem": steps_per_problem,
         "eval_points": eval_points, "test_examples": test_examples,
         "kinds": kinds}
  results, missing = [], []
  for seed in seeds:
    for run in runs:
      done = run_paths(run["name"], seed, report_dir, work_dir)[0]
      if (os.path.exists(done) or train_runs is None or
          run["name"] in train_runs):
        results.append(run_one(run, seed, cfg, log))
      else:
        missing.append(f"{run['name']} seed {seed}")
  return report.write(
      experiment, results, report_dir,
      {"steps_per_problem": steps_per_problem, "seeds": list(seeds),
       "test_examples": test_examples, "resamples": resamples,
       "setting": setting, "command": command, "missing": missing,
       "single_dir": single_dir, "work_dir": work_dir,
       "cache": os.path.join(work_dir, "bootstrap_cache.json")})
