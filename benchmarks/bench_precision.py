"""bfloat16 mixed precision (and XLA) against float32: prints, asserts nothing.

  python benchmarks/bench_precision.py [--steps 1000] [--xla]
      [--hparams_set transformer_small] [--data_dir /tmp/joint/data]

Trains translate_ende_ddtp from the same initial weights on the same batches
in float32 and in bfloat16 (mixed_precision=bfloat16: bf16 compute, float32
variables), through t2tlite.train.trainer's own compiled train step, one step of
each run in turn so that load on a shared machine slows both alike. Records
every step's loss and time, and prints:
  - per-step speed bf16 / fp32 (median step times; target >= 1.3x);
  - whether the mean losses of the last 100 steps are within noise: their
    difference against the step-to-step std of the fp32 curve;
  - with --xla, the same runs with jit_compile=True beside them (the issue
    keeps XLA only where it helps).
With XLA every new batch shape (length bucket) compiles once: the median
step time leaves those steps out once the shapes repeat, the mean does not.
Writes a PNG of the loss curves and the figures as JSON. Registered
transformer sets (hparams/transformer.py): transformer_base, transformer_small
(the default: 3+3 layers of 256), transformer_tiny (for smoke runs).
"""
import argparse
import json
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

import t2tlite  # noqa: E402,F401  (registers every problem and model)
from t2tlite import registry  # noqa: E402
from t2tlite.train import trainer as trainer_lib  # noqa: E402
from t2tlite.train import seeding  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
TARGET_SPEEDUP = 1.3
WINDOW = 100  # final steps whose mean losses are compared


def _runs(xla):
  runs = {"fp32": "mixed_precision=", "bf16": "mixed_precision=bfloat16"}
  if xla:
    runs.update({k + "+xla": v + ",jit_compile=true"
                 for k, v in list(runs.items())})
  return runs


def _make_trainer(args, overrides, work):
  hp = registry.hparams(args.hparams_set).override(
      ",".join(o for o in (args.hparams, overrides) if o))
  seeding.seed_everything(hp.seed)  # every run starts from the same weights
  return trainer_lib.Trainer([args.problem], args.model, args.hparams_set, hp,
                             args.data_dir, work)


def train_interleaved(args, work_dir):
  """Every run's losses, step seconds and tokens, one step of each in turn.

  Each run's step function is the trainer's own (its tf.function, clipping,
  non-finite guard and optimiser); only the loop around it is ours, so
  that the steps interleave and the input fetch is not timed.
  """
  trainers, rec = {}, {}
  for name, overrides in _runs(args.xla).items():
    trainers[name] = _make_trainer(args, overrides,
                                   os.path.join(work_dir, name))
    rec[name] = {"overrides": overrides, "loss": [], "step_s": [],
                 "tokens": []}
  problem = args.problem
  for i in range(args.steps):
    for name, tr in trainers.items():
      batch = next(tr.streams[problem])
      start = time.perf_counter()
      out = tr._train_steps[problem](batch)  # pylint: disable=protected-access
      loss = float(out["loss"])  # waits for the step to finish
      rec[name]["step_s"].append(time.perf_counter() - start)
      rec[name]["loss"].append(loss)
      rec[name]["tokens"].append(float(out["tokens"]))
    if (i + 1) % max(1, args.steps // 10) == 0:
      print(f"  step {i + 1}: " + ", ".join(
          f"{n} loss {r['loss'][-1]:.3f} {r['step_s'][-1] * 1e3:.0f} ms"
          for n, r in rec.items()), flush=True)
  return rec


def summarise(rec, skip):
  """Median and mean step time after `skip` warm-up (trace) steps."""
  for r in rec.values():
    times = np.array(r["step_s"][skip:] or r["step_s"])
    tokens = np.array(r["tokens"][skip:] or r["tokens"])
    r["median_step_s"] = float(np.median(times))
    r["mean_step_s"] = float(np.mean(times))
    r["tokens_per_s"] = float(tokens.sum() / times.sum())
    r["nonfinite_steps"] = int(np.sum(~np.isfinite(r["loss"])))


def loss_agreement(ref, other, window):
  """Difference of the final-window mean losses against the fp32 curve's
  step-to-step std (std of successive differences / sqrt 2, which a slow
  downward trend does not inflate)."""
  a, b = np.array(ref[-window:]), np.array(other[-window:])
  noise = float(np.std(np.diff(a)) / np.sqrt(2)) if len(a) > 2 else 0.0
  diff = float(np.mean(b) - np.mean(a))
  return {"window": len(a), "fp32_mean": float(np.mean(a)),
          "other_mean": float(np.mean(b)), "difference": diff,
          "fp32_step_std": noise,
          "within_noise": bool(abs(diff) <= noise)}


def plot(rec, path, title, window):
  try:
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  except ImportError:
    print("plot skipped: pip install -e .[bench]")
    return None
  fig, ax = plt.subplots(figsize=(8, 4.5))
  for n, (name, r) in enumerate(rec.items()):
    loss = np.array(r["loss"])
    steps = np.arange(1, len(loss) + 1)
    line, = ax.plot(steps, loss, alpha=0.25, linewidth=0.7)
    k = max(1, min(20, len(loss) // 5))  # moving average for the eye
    smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
    # Dashed on top of solid: curves that agree must both stay visible.
    ax.plot(steps[k - 1:], smooth, color=line.get_color(),
            linestyle=("-", "--", ":", "-.")[n % 4],
            label=f"{name} ({k}-step mean)")
  steps_run = len(next(iter(rec.values()))["loss"])
  ax.axvspan(max(steps_run - window, 0) + 0.5, steps_run + 0.5, alpha=0.08,
             color="grey", label=f"last {min(window, steps_run)} steps "
             "(compared)")
  ax.set_xlabel("step")
  ax.set_ylabel("training loss (label-smoothed, per token)")
  ax.set_title(title)
  ax.legend()
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return path


def report(rec, args):
  fp32 = rec["fp32"]
  print(f"\n{args.model} {args.hparams_set} on {args.problem}, "
        f"{args.steps} steps, {os.cpu_count()} CPUs visible (shared)")
  for name, r in rec.items():
    print(f"  {name:9s} median {r['median_step_s'] * 1e3:8.1f} ms/step, "
          f"mean {r['mean_step_s'] * 1e3:8.1f} ms/step, "
          f"{r['tokens_per_s']:9,.0f} tokens/s, "
          f"non-finite steps {r['nonfinite_steps']}")
  results = {}
  for name, r in rec.items():
    if name == "fp32":
      continue
    speedup = fp32["median_step_s"] / r["median_step_s"]
    target = TARGET_SPEEDUP if name == "bf16" else 1.0
    verdict = "met" if speedup >= target else "MISSED"
    what = ("bf16 mixed precision" if name == "bf16" else
            f"{name} (XLA: keep only where > 1.0x)")
    print(f"speed {what}: {speedup:.2f}x fp32 per step  "
          f"(target >= {target:.1f}x: {speedup:.2f}x {verdict})")
    agree = loss_agreement(fp32["loss"], r["loss"], args.window)
    print(f"loss  {name}: last-{agree['window']} mean "
          f"{agree['other_mean']:.4f} vs fp32 {agree['fp32_mean']:.4f}, "
          f"difference {agree['difference']:+.4f}, fp32 step-to-step std "
          f"{agree['fp32_step_std']:.4f}  (target: |difference| <= std: "
          f"{'within noise' if agree['within_noise'] else 'OUTSIDE noise'})")
    results[name] = {"speedup_vs_fp32": speedup, "target": target,
                     "met": speedup >= target, "loss": agree}
  return results


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", default="/tmp/joint/data")
  parser.add_argument("--problem", default="translate_ende_ddtp")
  parser.add_argument("--model", default="transformer")
  parser.add_argument("--hparams_set", default="transformer_small")
  parser.add_argument("--hparams", default="",
                      help="extra overrides for every run, key=value,...")
  parser.add_argument("--steps", type=int, default=1000)
  parser.add_argument("--window", type=int, default=WINDOW)
  parser.add_argument("--skip", type=int, default=5,
                      help="warm-up steps left out of the step times")
  parser.add_argument("--xla", action="store_true",
                      help="also run both precisions with jit_compile=True")
  parser.add_argument("--json", default=os.path.join(
      RESULTS, "bench_precision.json"))
  parser.add_argument("--png", default=os.path.join(
      RESULTS, "bench_precision.png"))
  parser.add_argument("--work_dir", default="",
                      help="checkpoints go here (default: a temp dir, "
                      "removed afterwards)")
  args = parser.parse_args()
  if args.hparams_set not in registry.hparams_sets:
    parser.error(f"unknown --hparams_set {args.hparams_set}")
  work = args.work_dir or tempfile.mkdtemp(prefix="bench_precision_")
  start = time.perf_counter()
  try:
    rec = train_interleaved(args, work)
  finally:
    if not args.work_dir:
      shutil.rmtree(work, ignore_errors=True)
  summarise(rec, min(args.skip, max(args.steps - 1, 0)))
  results = report(rec, args)
  for path in (args.json, args.png):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  png = plot(rec, args.png, f"{args.hparams_set} on {args.problem}: "
             "fp32 vs bf16 mixed precision", args.window)
  if png:
    print(f"loss curves: {png}")
  with open(args.json, "w") as f:
    json.dump({"problem": args.problem, "model": args.model,
               "hparams_set": args.hparams_set, "hparams": args.hparams,
               "steps": args.steps, "cpus": os.cpu_count(),
               "results": results, "runs": rec, "png": png}, f, indent=1)
  print(f"json: {args.json}\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
  main()
