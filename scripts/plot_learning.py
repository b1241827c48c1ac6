"""Learning curves: each problem's decoded dev metric against CPU wall time.

Reads docs/learning/runs/*/eval.jsonl (written by scripts/learning_curve.sh
and the main job), draws one figure per problem with every run that trained
it (the MultiModel alone, jointly, and the reference recipes) and writes
docs/learning/<problem>.png and docs/learning/summary.json (the last and the
best dev metric of each run, with its step and wall time).

  python scripts/plot_learning.py [--runs=docs/learning/runs]
"""
import argparse
import glob
import json
import os

# The metric each kind of problem is judged by (decoded, on dev).
METRICS = (("decoded_bleu", "BLEU"), ("decoded_labelled_f1", "labelled F1"),
           ("decoded_wer", "WER"), ("decoded_accuracy", "accuracy"))


def load_runs(root):
  runs = {}
  for path in sorted(glob.glob(os.path.join(root, "*", "eval.jsonl"))):
    name = os.path.basename(os.path.dirname(path))
    # Checkpoints re-decoded after a decoding change (redecode_curve.py)
    # replace the metrics decoded during training.
    again = os.path.join(os.path.dirname(path), "eval_redecoded.jsonl")
    path = again if os.path.exists(again) else path
    with open(path) as f:
      runs[name] = [json.loads(l) for l in f if l.strip()]
  return runs


def total_wall(records):
  """Each record's wall time since the run began. A resumed run restarts
  its clock (wall_s falls): the time before the restart is added back."""
  out, offset, last = [], 0.0, 0.0
  for r in records:
    wall = r.get("wall_s", 0.0)
    if wall < last:
      offset += last
    last = wall
    out.append(offset + wall)
  return out


def metric_of(record):
  for key, label in METRICS:
    if key in record:
      return key, label
  return None, None


def main():
  ap = argparse.ArgumentParser(description=__doc__)
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  ap.add_argument("--runs", default=os.path.join(root, "docs", "learning",
                                                 "runs"))
  args = ap.parse_args()
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  runs = load_runs(args.runs)
  by_problem, summary = {}, {}
  for run, records in runs.items():
    for rec in records:
      by_problem.setdefault(rec["problem"], {}).setdefault(run, []).append(
          rec)
  for problem, curves in sorted(by_problem.items()):
    if not any(metric_of(recs[-1])[0] for recs in curves.values()):
      continue  # no decoded metric recorded for it: nothing to draw
    fig, ax = plt.subplots(figsize=(6, 4))
    label = None
    for run, recs in sorted(curves.items()):
      key, label = metric_of(recs[-1])
      if key is None:
        continue
      pts = [(wall / 60, r[key]) for wall, r in zip(total_wall(recs), recs)
             if key in r and "wall_s" in r]
      if not pts:
        continue
      ax.plot(*zip(*pts), marker="o", label=run)
      lower_better = key == "decoded_wer"
      best = (min if lower_better else max)(recs, key=lambda r: r.get(
          key, float("inf") if lower_better else -float("inf")))
      summary.setdefault(problem, {})[run] = {
          "metric": key, "last": recs[-1][key], "last_step": recs[-1]["step"],
          "last_wall_s": total_wall(recs)[-1], "best": best[key],
          "best_step": best["step"]}
    ax.set_xlabel("CPU wall time (minutes)")
    ax.set_ylabel(f"dev {label} (decoded)")
    ax.set_title(problem)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = os.path.join(os.path.dirname(args.runs), f"{problem}.png")
    fig.savefig(out, dpi=90)
    plt.close(fig)
    print(f"wrote {out}")
  with open(os.path.join(os.path.dirname(args.runs), "summary.json"),
            "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
  for problem, rows in sorted(summary.items()):
    for run, r in sorted(rows.items()):
      print(f"{problem:<26} {run:<34} {r['metric']:<22} last {r['last']:>7}"
            f" @ step {r['last_step']} ({(r['last_wall_s'] or 0) / 60:.0f} "
            f"min); best {r['best']} @ {r['best_step']}")


if __name__ == "__main__":
  main()
