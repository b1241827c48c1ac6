"""An experiment's report: <report_dir>/report.md, results.json, curves.png.

The report holds the command and commit, each run's budget (steps, what
they held, time, machine), the test metrics per seed and their mean ± std
over seeds, each run against its reference run per seed (paired bootstrap)
and over seeds (the verdict of stats.seed_verdict), the mixing
experiment's normalised comparison, and per-problem learning curves.
"""
import glob
import hashlib
import json
import os

import numpy as np

from t2tlite.experiments import plan
from t2tlite.experiments import provenance
from t2tlite.experiments import stats
from t2tlite.data import data_io


def load_run(path):
  """One run's result JSON."""
  with open(path) as f:
    return json.load(f)


def _runs_in_order(results):
  return list(dict.fromkeys(r["run"] for r in results))


def _problems(results):
  return list(dict.fromkeys(p for r in results for p in r["problems"]))


def _cell(values, metric):
  if not values:
    return ""
  cell = f"{metric} {np.mean(values):.2f}"
  return cell + (f" ± {np.std(values, ddof=1):.2f}" if len(values) > 1
                 else "")


def summarize(results, per_seed=False):
  """Markdown: one row per run (per_seed: per run and seed), one column per
  problem's main metric; over seeds, mean ± sample std."""
  problems = _problems(results)
  groups = {}
  for r in results:
    key = (r["run"], r["seed"]) if per_seed else r["run"]
    groups.setdefault(key, []).append(r)
  head = "| run | " + ("seed | " if per_seed else "seeds | ")
  lines = [head + " | ".join(problems) + " | train time |",
           "|" + "---|" * (len(problems) + 3)]
  for key, rs in groups.items():
    cells = []
    for p in problems:
      vals = [stats.main_metric(r["scores"][p]) for r in rs
              if p in r["scores"]]
      cells.append(_cell([v for _, v in vals], vals[0][0] if vals else ""))
    secs = np.mean([r["train_seconds"] for r in rs])
    name, seeds = (key if per_seed else
                   (key, ",".join(str(r["seed"]) for r in rs)))
    lines.append(f"| {name} | {seeds} | " + " | ".join(cells) +
                 f" | {secs:.0f}s |")
  return "\n".join(lines)


def _bootstrap(p, metric, a, b, resamples, cache):
  """paired_bootstrap of run b against a on problem p, remembered in cache
  (a dict) by a hash of everything it depends on."""
  key = hashlib.sha1(json.dumps([p, metric, a["hyps"], b["hyps"], a["refs"],
                                 resamples]).encode()).hexdigest()
  if key not in cache:
    # pylint: disable=import-outside-toplevel
    from t2tlite import metrics, registry
    problem = registry.problem(p)
    cache[key] = stats.paired_bootstrap(
        lambda hyps, refs: metrics.score(problem, hyps, refs), metric,
        a["hyps"], b["hyps"], a["refs"], resamples)
  return cache[key]


def compare(experiment, results, resamples=stats.MIN_RESAMPLES, cache=None):
  """Each run against its reference on every problem they share, on the
  seeds both have: per seed the difference and its bootstrap interval, over
  seeds the mean, spread and verdict. A list of dicts (one per problem and
  run)."""
  cache = {} if cache is None else cache
  by = {(r["run"], r["seed"]): r for r in results}
  rows = []
  for name in _runs_in_order(results):
    for p in _problems([r for r in results if r["run"] == name]):
      ref_name = plan.reference_run(experiment, p)
      if ref_name == name:
        continue
      seeds = []
      for (run, seed), r in by.items():
        ref = by.get((ref_name, seed))
        if run != name or ref is None or p not in r.get("decodes", {}) or (
            p not in ref.get("decodes", {})):
          continue
        metric, ref_value = stats.main_metric(ref["scores"][p])
        diff, low, high = _bootstrap(p, metric, ref["decodes"][p],
                                     r["decodes"][p], resamples, cache)
        seeds.append({"seed": seed, "reference_value": ref_value,
                      "diff": diff, "low": low, "high": high,
                      "verdict": stats.verdict(metric, diff, low, high)})
      if seeds:
        rows.append({"problem": p, "run": name, "reference": ref_name,
                     "metric": metric, "seeds": seeds,
                     **stats.seed_verdict(metric, [
                         (s["diff"], s["low"], s["high"]) for s in seeds])})
  return rows


def per_seed_table(rows):
  lines = ["| problem | run | seed | reference | difference [95% CI] | "
           "test-sample verdict |", "|---|---|---|---|---|---|"]
  for row in rows:
    for s in row["seeds"]:
      lines.append(
          f"| {row['problem']} | {row['run']} | {s['seed']} | "
          f"{row['reference']} ({row['metric']} {s['reference_value']:.2f})"
          f" | {s['diff']:+.2f} [{s['low']:+.2f}, {s['high']:+.2f}] | "
          f"{s['verdict']} |")
  return "\n".join(lines)


def verdict_table(rows):
  lines = ["| problem | run | reference | seeds | mean difference ± std | "
           "95% CI over seeds | verdict | note |",
           "|---|---|---|---|---|---|---|---|"]
  for row in rows:
    spread = "" if row["std"] is None else f" ± {row['std']:.2f}"
    ci = ("" if row["low"] is None else
          f"[{row['low']:+.2f}, {row['high']:+.2f}]")
    lines.append(f"| {row['problem']} | {row['run']} | {row['reference']} | "
                 f"{len(row['seeds'])} | {row['metric']} {row['mean']:+.2f}"
                 f"{spread} | {ci} | {row['verdict']} | {row['note']} |")
  return "\n".join(lines)


def _seen(budget):
  cells = []
  for p, seen in (budget.get("seen") or {}).items():
    for k, v in (seen or {}).items():
      what = "images" if k == "images" else "target tokens ≤"
      cells.append(f"{p}: {what} {v:,}")
  return "; ".join(cells)


def budget_table(results):
  """Markdown: what each run x seed was given and where it was made."""
  lines = ["| run | seed | steps | steps per problem | seen | train wall / "
           "CPU time | commit | CPU |", "|---|---|---|---|---|---|---|---|"]
  for r in results:
    b = r.get("budget") or {}
    per = ", ".join(f"{p} {n}" for p, n in
                    (b.get("steps_per_problem") or {}).items())
    steps = b.get("steps") or r.get("steps") or ""
    cpu = r.get("train_cpu_seconds")
    times = f"{r['train_seconds']:.0f}s" + (
        f" / {cpu:.0f}s" if cpu is not None else "")
    resumed = (f" (resumed at {r['steps_before']})"
               if r.get("steps_before") else "")
    commit = (r.get("commit") or "?")[:10] + (
        "+changes" if r.get("uncommitted_changes") else "")
    lines.append(f"| {r['run']} | {r['seed']} | {steps}{resumed} | {per} | "
                 f"{_seen(b)} | {times} | {commit} | "
                 f"{r.get('cpu_model') or '?'} |")
  return "\n".join(lines)


def _ratio(metric, value, base):
  """value / base, turned so that > 1 is better; None when base is 0."""
  if metric in stats.LOWER_IS_BETTER:
    return base / value if value else None
  return value / base if base else None


def _single_results(single_dir, problems):
  """Problem -> main-metric values of its single-task runs in single_dir."""
  out = {}
  for p in problems:
    for path in sorted(glob.glob(os.path.join(single_dir or "", "runs",
                                              f"single_{p}_seed*.json"))):
      r = load_run(path)
      if p in r.get("scores", {}):
        out.setdefault(p, []).append(stats.main_metric(r["scores"][p])[1])
  return out


def mixing_table(results, single_dir=None):
  """Markdown: each mixing's mean over problems of its metric normalised
  by the single-task result (from single_dir) or, failing that, by the
  round_robin run of the same seed; and which is best."""
  problems = _problems(results)
  singles = _single_results(single_dir, problems) if single_dir else {}
  by = {(r["run"], r["seed"]): r for r in results}
  if singles and all(p in singles for p in problems):
    basis = (f"the single-task runs in {single_dir} (mean over their "
             "seeds)")
    base = lambda p, seed: float(np.mean(singles[p]))
  else:
    why = ("no --single_dir given" if not single_dir else
           f"{single_dir} lacks single-task results for "
           + ", ".join(p for p in problems if p not in singles))
    basis = f"the round_robin run of the same seed ({why})"

    def base(p, seed):
      ref = by.get(("mixing_round_robin", seed))
      return stats.main_metric(ref["scores"][p])[1] if ref else None
  lines = [f"Each problem's main metric divided by {basis}, turned so that "
           "above 1 is better (WER: reference / run), averaged over the "
           "problems; then mean ± std over seeds.", "",
           "| run | mixing | seeds | normalised mean |",
           "|---|---|---|---|"]
  best = None
  for name in _runs_in_order(results):
    means = []
    for r in (r for r in results if r["run"] == name):
      ratios = []
      for p in r["problems"]:
        metric, value = stats.main_metric(r["scores"][p])
        b = base(p, r["seed"])
        ratio = None if b is None else _ratio(metric, value, b)
        if ratio is not None:
          ratios.append(ratio)
      if ratios:
        means.append(float(np.mean(ratios)))
    if not means:
      continue
    mixing = by[next(k for k in by if k[0] == name)]["mixing"]
    lines.append(f"| {name} | `{mixing}` | {len(means)} | "
                 f"{_cell(means, '').strip()} |")
    if best is None or np.mean(means) > best[1]:
      best = (name, float(np.mean(means)))
  if best:
    lines += ["", f"Best mean of normalised metrics: **{best[0]}** "
              f"({best[1]:.3f})."]
  return "\n".join(lines)


def plot_curves(results, path):
  """Per-problem dev loss against steps spent on that problem."""
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
  problems = _problems(results)
  fig, axes = plt.subplots(1, len(problems), figsize=(4 * len(problems), 3),
                           squeeze=False)
  for ax, p in zip(axes[0], problems):
    for r in results:
      if r["curves"].get(p):
        n = len(r["problems"])
        # Steps on this problem: the realised share when the eval logged it.
        xs = [pt[0] * (pt[2] if len(pt) > 2 and pt[2] is not None
                       else 1.0 / n) for pt in r["curves"][p]]
        ax.plot(xs, [pt[1] for pt in r["curves"][p]],
                label=f"{r['run']} s{r['seed']}")
    ax.set_title(p, fontsize=9)
    ax.set_xlabel("steps on this problem")
    ax.set_ylabel("dev loss")
    if ax.lines:
      ax.legend(fontsize=6)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


RULES = (
    "Per seed, the difference (run − reference) is on the same test "
    "examples, with a paired-bootstrap 95% interval ({resamples} resamples) "
    "for the test sample's noise. Over seeds: the mean difference, its "
    "sample std and a t-based 95% interval of the mean (two seeds or "
    "more). Verdict: *helped* or *hurt* only if every seed's bootstrap "
    "interval excludes 0 on the same side and the interval over seeds "
    "excludes 0 too; otherwise *within noise*; with one seed, no verdict "
    "on seed noise. Note *{too_small}*: every seed's interval holds 0 and "
    "the bootstrap's standard error (half-width / 1.96) is at least the "
    "seed-to-seed std of the difference (one seed: whenever its interval "
    "holds 0), so a bigger test split, not more seeds, would separate the "
    "runs.")

SEEN = ("*seen*: images are exact (steps × image_batch_size: training "
        "batches are full); the trainer does not log target tokens, so "
        "theirs is an upper bound, steps × batch_size (padding included). "
        "Times are those of the session that finished the run (after the "
        "step it resumed at, if any); CPU time is user + system of this "
        "process and its trainer processes.")


def write(experiment, results, report_dir, info):
  """Writes results.json, curves.png and report.md; returns the report.

  info: steps_per_problem, seeds, test_examples, resamples, setting,
  command, missing, single_dir, cache (a JSON file for bootstrap results).
  """
  os.makedirs(report_dir, exist_ok=True)
  cache_path = info.get("cache")
  cache = {}
  if cache_path and os.path.exists(cache_path):
    with open(cache_path) as f:
      cache = json.load(f)
  rows = compare(experiment, results, info["resamples"], cache)
  if cache_path:
    os.makedirs(os.path.dirname(cache_path), exist_ok=True)
    data_io.write_json(cache_path, cache)
  slim = [{k: v for k, v in r.items() if k != "decodes"} for r in results]
  data_io.write_json(os.path.join(report_dir, "results.json"),
                     {"experiment": experiment, "runs": slim,
                      "comparisons": rows}, indent=1)
  commit, dirty = provenance.code_commit()
  tests = info.get("test_examples") or 0
  head = [f"# {experiment}", "",
          f"Command: `{info.get('command') or '(library call)'}`", "",
          f"Report written at commit {commit or 'unknown'}"
          + (" with uncommitted changes" if dirty else "") + "; each run's "
          "own commit is in the budget table.", "",
          f"{info.get('setting') or ''}{info['steps_per_problem']} steps "
          f"per problem per run (a joint run of n problems trains n times "
          f"as many), seeds {info['seeds']}, test examples per problem: "
          + (f"the first {tests}" if tests else "the whole test split")
          + f"; total training time "
          f"{sum(r['train_seconds'] for r in results):.0f}s."]
  if info.get("missing"):
    head += ["", "Not yet run (left out): " + ", ".join(info["missing"])]
  parts = ["\n".join(head),
           "## Budget\n\n" + budget_table(results) + "\n\n" + SEEN,
           "## Test metrics per seed\n\n" + summarize(results, per_seed=True),
           "## Mean ± std over seeds\n\n" + summarize(results),
           "## Against the reference run\n\n" + RULES.format(
               resamples=info["resamples"], too_small=stats.TEST_TOO_SMALL),
           "### Per seed\n\n" + per_seed_table(rows),
           "### Over seeds\n\n" + verdict_table(rows)]
  if experiment == "mixing":
    parts.append("## Mixing\n\n" + mixing_table(results,
                                                 info.get("single_dir")))
  if results:
    plot_curves(results, os.path.join(report_dir, "curves.png"))
    parts.append("![learning curves](curves.png)")
  report = "\n\n".join(parts) + "\n"
  with open(os.path.join(report_dir, "report.md"), "w") as f:
    f.write(report)
  return report
