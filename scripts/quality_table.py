"""The quality run's table: per task, the MultiModel trained jointly, the
MultiModel alone and the reference recipe, from the metrics.json files
scripts/quality_run.sh writes under docs/quality_run/, beside the targets
(main_job_report.QUALITY_TARGETS: the metric and, for a sequence problem,
the share of distinct outputs, printed beside the metric).

  python scripts/quality_table.py [--dir docs/quality_run] [--write]

Prints the markdown table; --write also saves it as DIR/table.md. A run
that has not been done yet shows the command that does it.
"""
import argparse
import json
import os

import main_job_report

PROBLEMS = ["translate_ende_ddtp", "translate_enfr_ddtp",
            "image_fashion_mnist", "speech_tts_en", "speech_tts_en_chars",
            "parsing_english_silver",
            "image_caption_tuxpaint"]


def load(path):
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def cell(report, name, metric):
  """'BLEU 17.3' (+ what a user needs beside it), from a test report."""
  if report is None:
    return None
  if "results" not in report:  # the small CNN's report
    return f"{metric} {report['metrics'][metric]:.4f}"
  entry = report["results"].get(name)
  if entry is None:
    return None
  value = entry["metrics"][metric]
  text = f"{metric} {value:.4g}" if value < 1 else f"{metric} {value:.2f}"
  target = main_job_report.QUALITY_TARGETS.get(name)
  if target is not None and target.min_distinct is not None:
    text += f", {entry['distinct_outputs']:.0%} distinct"
  if name.startswith("parsing"):
    text += f", {entry['metrics'].get('malformed', 0)} malformed"
  if "constant_caption" in entry:
    text += (f" (constant caption "
             f"{entry['constant_caption']['test_bleu']:.2f})")
  return text


def table(root):
  joint = load(os.path.join(root, "joint", "metrics.json"))
  rows = ["| problem | target | MultiModel joint | MultiModel alone | "
          "reference recipe |", "| --- | --- | --- | --- | --- |"]
  trained = (joint or {}).get("problems")
  for name in PROBLEMS:
    reports = {mode: load(os.path.join(root, f"{mode}_{name}", "metrics.json"))
               for mode in ("single", "reference")}
    if trained and name not in trained and not any(reports.values()):
      continue  # a problem the joint run no longer trains, never run alone
    goal = main_job_report.QUALITY_TARGETS[name]
    metric, target = goal.metric, main_job_report.describe(goal)
    cols = [cell(joint, name, metric) or
            "not run: `bash scripts/quality_run.sh`"]
    for mode in ("single", "reference"):
      report = reports[mode]
      text = cell(report, name, metric)
      if text and joint and report.get("hparams_set") not in (
          None, joint.get("hparams_set")):
        text += f" ({report['hparams_set']}, commit {report['commit'][:7]})"
      cols.append(text or
                  f"not run: `bash scripts/quality_run.sh {mode} {name}`")
    if name == "image_caption_tuxpaint":
      cols[2] = "(the constant caption, in the joint column)"
    mark = ""
    entry = (joint or {}).get("results", {}).get(name)
    if entry is not None:
      # Judged again with today's targets, not the stored "met": a report
      # written before a target gained a part (distinct outputs) is held to
      # it too.
      met, _, missed = main_job_report.judge(goal, entry)
      mark = " (met)" if met else f" (missed: {', '.join(missed)})"
    rows.append(f"| {name} | {target}{mark} | " +
                " | ".join(cols) + " |")
  return "\n".join(rows) + "\n"


def main():
  ap = argparse.ArgumentParser(description=__doc__)
  ap.add_argument("--dir", default=os.path.join(
      os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
      "quality_run"))
  ap.add_argument("--write", action="store_true")
  args = ap.parse_args()
  text = table(args.dir)
  print(text, end="")
  if args.write:
    with open(os.path.join(args.dir, "table.md"), "w") as f:
      f.write(text)


if __name__ == "__main__":
  main()
