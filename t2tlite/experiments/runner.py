"""The paper's experiments at small scale, as named runs and a report.

Each experiment is a list of runs (problems, model, hparams overrides,
mixing). Every run is the trainer CLI in a process of its own, in a folder
of its own, so an interrupted experiment resumes where it stopped. After
training, each problem is decoded on its held-out test split and scored with
its own metric; the report is Markdown tables and per-problem learning
curves (matplotlib).
"""
import json
import os
import subprocess
import sys
import time

import numpy as np

from t2tlite.data import data_io
from t2tlite import experiment_stats as stats

# The embedded real problems, one per modality pairing.
EMBEDDED = {
    "translation": "translate_ende_ddtp",
    "translation_fr": "translate_enfr_ddtp",
    "image": "image_fashion_mnist",
    "speech": "speech_tts_en",
    "parsing": "parsing_english_silver",
    "caption": "image_caption_tuxpaint",
}


def _run(name, problems, hparams="", mixing="round_robin"):
  return {"name": name, "problems": list(problems), "hparams": hparams,
          "mixing": mixing}


def experiment_runs(experiment, problems):
  """The runs of a named experiment over the given problem set."""
  parsing = [p for p in problems if p.startswith("parsing")]
  images = [p for p in problems if p.startswith("image_") and
            "caption" not in p]
  text = [p for p in problems if p.startswith("translate")]
  if experiment == "joint_vs_single":
    return ([_run(f"single_{p}", [p]) for p in problems] +
            [_run("joint", problems)])
  if experiment == "parsing_transfer":
    if not parsing:
      raise ValueError("parsing_transfer needs a parsing problem")
    p = parsing[:1]
    return [_run("parsing_alone", p),
            _run("parsing_with_image", p + images[:1]),
            _run("parsing_with_all", p + [q for q in problems if q not in p])]
  if experiment == "ablations":
    chosen = text[:1] + images[:1]
    return [_run("baseline", chosen),
            _run("no_moe", chosen, "use_moe=false"),
            _run("no_attention", chosen, "decoder_attention=false"),
            _run("encoder_self_attention", chosen,
                 "encoder_self_attention=true")]
  if experiment == "mixing":
    return [_run(f"mixing_{m.replace(':', '')}", problems, mixing=m)
            for m in ("round_robin", "proportional", "temperature:2")]
  raise ValueError(f"unknown experiment '{experiment}' (joint_vs_single, "
                   "parsing_transfer, ablations, mixing)")


def run_one(run, folder, model, hparams_set, data_dir, steps_per_problem,
            eval_points, test_examples, seed, log):
  """Trains one run (resuming if it was cut short) and scores its tests.

  A finished run's result is kept beside its folder and reused as is.
  """
  out = os.path.join(folder, f"{run['name']}_seed{seed}")
  done = out + ".json"
  if os.path.exists(done):
    with open(done) as f:
      return json.load(f)
  steps = steps_per_problem * len(run["problems"])
  overrides = ",".join(filter(None, [run["hparams"], f"seed={seed}"]))
  cmd = [sys.executable, "-m", "t2tlite.bin.t2t_trainer",
         f"--problems={'-'.join(run['problems'])}", f"--model={model}",
         f"--hparams_set={hparams_set}", f"--hparams={overrides}",
         f"--data_dir={data_dir}", f"--output_dir={out}",
         f"--train_steps={steps}", f"--mixing={run['mixing']}",
         f"--eval_every={max(1, steps // eval_points)}", "--eval_steps=10",
         "--log_every=100"]
  start = time.time()
  with open(os.path.join(folder, f"{run['name']}_seed{seed}.log"), "a") as f:
    proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
  if proc.returncode != 0:
    raise RuntimeError(f"run {run['name']} failed; see its log in {folder}")
  train_seconds = time.time() - start
  scores, decodes = {}, {}
  from t2tlite.decode import decoder  # pylint: disable=import-outside-toplevel
  dec = decoder.Decoder(out, data_dir, "beam_size=1,batch_size=64")
  for p in run["problems"]:
    scores[p], hyps, refs = dec.evaluate(p, "test", test_examples)
    decodes[p] = {"hyps": hyps, "refs": refs}
  curves = {}
  for line in open(os.path.join(out, "eval.jsonl")):
    rec = json.loads(line)
    curves.setdefault(rec["problem"], []).append((rec["step"], rec["loss"]))
  log(f"{run['name']} seed {seed}: {train_seconds:.0f}s, {scores}")
  result = {"run": run["name"], "seed": seed, "problems": run["problems"],
            "train_seconds": train_seconds, "steps": steps, "scores": scores,
            "decodes": decodes, "curves": curves}
  data_io.write_json(done, result)
  return result


def summarize(results):
  """Markdown: one row per run, one column per problem's main metric."""
  problems = sorted({p for r in results for p in r["problems"]})
  by_run = {}
  for r in results:
    by_run.setdefault(r["run"], []).append(r)
  head = "| run | " + " | ".join(problems) + " | train time |"
  lines = [head, "|" + "---|" * (len(problems) + 2)]
  for name, rs in by_run.items():
    cells = []
    for p in problems:
      vals = [stats.main_metric(r["scores"][p]) for r in rs
              if p in r["scores"]]
      if not vals:
        cells.append("")
        continue
      metric = vals[0][0]
      xs = [v for _, v in vals]
      cell = f"{metric} {np.mean(xs):.2f}"
      if len(xs) > 1:
        cell += f" ± {np.std(xs, ddof=1):.2f}"
      cells.append(cell)
    secs = np.mean([r["train_seconds"] for r in rs])
    lines.append(f"| {name} | " + " | ".join(cells) + f" | {secs:.0f}s |")
  return "\n".join(lines)


def reference_run(experiment, problem):
  """The run each other run is compared with, for one problem."""
  return {"joint_vs_single": f"single_{problem}",
          "parsing_transfer": "parsing_alone",
          "ablations": "baseline",
          "mixing": "mixing_round_robin"}[experiment]


def compare(experiment, results, resamples=200):
  """Markdown: each run against its reference on every shared problem, the
  difference with a paired-bootstrap 95% interval over the test examples,
  and whether it helped, hurt or stayed within noise."""
  from t2tlite import registry  # pylint: disable=import-outside-toplevel
  runs = {(r["run"], r["seed"]): r for r in results}
  lines = ["| problem | run | seed | reference | difference [95% CI] | "
           "verdict |", "|---|---|---|---|---|---|"]
  for r in results:
    for p in r["problems"]:
      ref = runs.get((reference_run(experiment, p), r["seed"]))
      if ref is None or ref is r or p not in ref.get("decodes", {}):
        continue
      metric, ref_value = stats.main_metric(ref["scores"][p])
      a, b = ref["decodes"][p], r["decodes"][p]
      diff, low, high = stats.paired_bootstrap(
          registry.problem(p).score, metric, a["hyps"], b["hyps"], a["refs"],
          resamples)
      lines.append(
          f"| {p} | {r['run']} | {r['seed']} | {ref['run']} ({metric} "
          f"{ref_value:.2f}) | {diff:+.2f} [{low:+.2f}, {high:+.2f}] | "
          f"{stats.verdict(metric, diff, low, high)} |")
  return "\n".join(lines)


def plot_curves(results, path):
  """Per-problem dev loss against steps spent on that problem."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  problems = sorted({p for r in results for p in r["problems"]})
  fig, axes = plt.subplots(1, len(problems), figsize=(4 * len(problems), 3),
                           squeeze=False)
  for ax, p in zip(axes[0], problems):
    for r in results:
      if p in r["curves"]:
        n = len(r["problems"])
        xs, ys = zip(*r["curves"][p])
        ax.plot([x / n for x in xs], ys, label=f"{r['run']} s{r['seed']}")
    ax.set_title(p, fontsize=9)
    ax.set_xlabel("steps on this problem")
    ax.set_ylabel("dev loss")
    ax.legend(fontsize=6)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def run_experiment(experiment, problems, folder, model, hparams_set,
                   data_dir, steps_per_problem, eval_points=5,
                   test_examples=200, seeds=(1,), log=print):
  os.makedirs(folder, exist_ok=True)
  results = []
  for seed in seeds:
    for run in experiment_runs(experiment, problems):
      results.append(run_one(run, folder, model, hparams_set, data_dir,
                             steps_per_problem, eval_points, test_examples,
                             seed, log))
  with open(os.path.join(folder, "results.json"), "w") as f:
    json.dump(results, f, indent=1)
  table = summarize(results)
  plot = os.path.join(folder, "curves.png")
  plot_curves(results, plot)
  budget = (f"{steps_per_problem} steps per problem per run, model {model}, "
            f"hparams {hparams_set}, seeds {list(seeds)}, test examples "
            f"per problem {test_examples}; total training time "
            f"{sum(r['train_seconds'] for r in results):.0f}s")
  report = (f"# {experiment}\n\n{budget}\n\n{table}\n\n"
            f"## Against the reference run\n\n"
            f"{compare(experiment, results)}\n\n"
            f"![learning curves](curves.png)\n")
  with open(os.path.join(folder, "report.md"), "w") as f:
    f.write(report)
  return report
