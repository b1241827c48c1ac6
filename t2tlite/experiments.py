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
  """Trains one run (resuming if it was cut short) and scores its tests."""
  out = os.path.join(folder, f"{run['name']}_seed{seed}")
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
  scores = {}
  from t2tlite import decoder  # pylint: disable=import-outside-toplevel
  dec = decoder.Decoder(out, data_dir, "beam_size=1,batch_size=64")
  for p in run["problems"]:
    scores[p], _, _ = dec.evaluate(p, "test", test_examples)
  curves = {}
  for line in open(os.path.join(out, "eval.jsonl")):
    rec = json.loads(line)
    curves.setdefault(rec["problem"], []).append((rec["step"], rec["loss"]))
  log(f"{run['name']} seed {seed}: {train_seconds:.0f}s, {scores}")
  return {"run": run["name"], "seed": seed, "problems": run["problems"],
          "train_seconds": train_seconds, "steps": steps, "scores": scores,
          "curves": curves}


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
      vals = [_main_metric(r["scores"][p]) for r in rs if p in r["scores"]]
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


_PREFERRED = ("bleu", "accuracy", "wer", "labelled_f1")


def _main_metric(scores):
  for k in _PREFERRED:
    if k in scores:
      return k, float(scores[k])
  k = sorted(scores)[0]
  return k, float(scores[k])


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
            f"![learning curves](curves.png)\n")
  with open(os.path.join(folder, "report.md"), "w") as f:
    f.write(report)
  return report
