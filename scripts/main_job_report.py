"""The main job's test report: each problem's decoded test metric beside its
target, written to a JSON file (benchmarks/results/main_job.json).

  python scripts/main_job_report.py --output_dir=O --limit=300 \
      --json=benchmarks/results/main_job.json --datagen_s=.. --train_s=..

Besides each problem's own metrics it reports the share of distinct
outputs (a speech model that says one sentence for every clip is not
trained) and, for captions, the best constant caption: the training
caption with the highest BLEU on the dev split, scored on the same test
examples (the trivial baseline a caption model must beat). A sequence
problem's target (translation, speech, parsing, captions) is met only if
its metric passes and at least its share of distinct outputs
(DISTINCT_* below) is distinct: a near-constant output can beat a metric's
bound or baseline and still be missed.
"""
import argparse
import collections
import os
import time
from typing import NamedTuple, Optional

# TensorFlow and t2tlite are imported where a report is made (main, and
# best_constant), not here: the targets and their check (judge) load
# without them, for scripts/quality_table.py and the tests.


class Target(NamedTuple):
  """A problem's target: its metric `op` `bound` (">=", "<=", or
  ">=x_constant": bound x the best constant caption's BLEU), and for a
  sequence problem also at least `min_distinct` of its decoded outputs
  distinct; `no_malformed`: and no malformed tree."""
  metric: str
  op: str
  bound: float
  min_distinct: Optional[float] = None
  no_malformed: bool = False


# The least share of distinct decoded outputs each kind of sequence problem
# needs besides its metric: a model that writes one output for nearly every
# input has not learned the task, whatever its metric says (the captions of
# the quality run beat the constant caption 17x in BLEU with 12% of their
# outputs distinct). Each is below the share of distinct test
# references (docs/quality_run/joint/decoded/): translation 100%, speech
# 100%, parsing 89%, captions 85%. Trained models so far: translation
# 98-99%, parsing 81-87% (both pass), speech 86-100% (90% was already its
# bar), captions 6-28% (all miss).
DISTINCT_TRANSLATION = 0.9
DISTINCT_SPEECH = 0.9
DISTINCT_PARSING = 0.5
DISTINCT_CAPTIONS = 0.5

# problem -> Target. "main": the main job's targets, "quality": those of the
# 2-hour quality run (scripts/quality_run.sh).
MAIN_TARGETS = {
    "translate_ende_ddtp": Target("bleu", ">=", 12.0, DISTINCT_TRANSLATION),
    "translate_ende_ddtp_rev": Target("bleu", ">=", 12.0,
                                      DISTINCT_TRANSLATION),
    "translate_enfr_ddtp": Target("bleu", ">=", 12.0, DISTINCT_TRANSLATION),
    "translate_enfr_ddtp_rev": Target("bleu", ">=", 12.0,
                                      DISTINCT_TRANSLATION),
    "image_fashion_mnist": Target("accuracy", ">=", 0.88),
    "speech_tts_en": Target("wer", "<=", 50.0, DISTINCT_SPEECH),
    "speech_tts_en_chars": Target("wer", "<=", 50.0, DISTINCT_SPEECH),
    "parsing_english_silver": Target("labelled_f1", ">=", 70.0,
                                     DISTINCT_PARSING, no_malformed=True),
    "image_caption_tuxpaint": Target("bleu", ">=x_constant", 2.0,
                                     DISTINCT_CAPTIONS),
}
QUALITY_TARGETS = {
    "translate_ende_ddtp": Target("bleu", ">=", 25.0, DISTINCT_TRANSLATION),
    "translate_enfr_ddtp": Target("bleu", ">=", 30.0, DISTINCT_TRANSLATION),
    "image_fashion_mnist": Target("accuracy", ">=", 0.92),
    "speech_tts_en": Target("wer", "<=", 15.0, DISTINCT_SPEECH),
    "speech_tts_en_chars": Target("wer", "<=", 15.0, DISTINCT_SPEECH),
    "parsing_english_silver": Target("labelled_f1", ">=", 88.0,
                                     DISTINCT_PARSING, no_malformed=True),
    "image_caption_tuxpaint": Target("bleu", ">=x_constant", 3.0,
                                     DISTINCT_CAPTIONS),
}
TARGETS = {"main": MAIN_TARGETS, "quality": QUALITY_TARGETS}


def best_constant(problem, data_dir, hparams, refs):
  """(caption, its dev BLEU, its BLEU on `refs`): the training caption that
  scores best on the whole dev split."""
  from t2tlite import metrics  # pylint: disable=import-outside-toplevel
  from t2tlite.data import pipeline  # pylint: disable=import-outside-toplevel
  pairs = lambda split: pipeline.eval_pairs(problem, data_dir, split, hparams)
  train = collections.Counter(ref for _, ref in pairs("train"))
  dev = [ref for _, ref in pairs("dev")]
  scored = [(metrics.score(problem, [c] * len(dev), dev)["bleu"], c)
            for c in train]
  dev_bleu, caption = max(scored)
  return caption, dev_bleu, metrics.score(problem, [caption] * len(refs),
                                          refs)["bleu"]


def commit():
  from t2tlite.experiments import provenance  # pylint: disable=import-outside-toplevel
  return provenance.code_commit()[0] or "unknown"


def distinct_share(hypotheses):
  """The share of distinct decoded outputs (exact strings), 0.0 for none."""
  return round(len(set(hypotheses)) / max(len(hypotheses), 1), 4)


def check(target, value, constant=None):
  """(the metric passes, the metric's part of the target as text)."""
  metric, op, bound = target[:3]
  if op == ">=":
    return value >= bound, f"{metric} >= {bound:g}"
  if op == "<=":
    return value <= bound, f"{metric} <= {bound:g}"
  need = bound * constant
  return value >= need, (f"{metric} >= {bound:g} x constant caption "
                         f"({need:.2f})")


def describe(target):
  """The whole target as text, without the constant caption's value."""
  if target.op == ">=x_constant":
    text = f"{target.metric} >= {target.bound:g} x constant caption"
  else:
    text = f"{target.metric} {target.op} {target.bound:g}"
  if target.min_distinct is not None:
    text += f", distinct outputs >= {target.min_distinct:.0%}"
  if target.no_malformed:
    text += ", 0 malformed"
  return text


def judge(target, entry):
  """(met, target text, what missed) for one problem's report entry
  ({"metrics", "distinct_outputs", "constant_caption"}, as main() writes
  it). Met only if every part passes: the metric, the share of distinct
  outputs (for a sequence problem) and no malformed tree (parsing)."""
  scores = entry["metrics"]
  constant = (entry.get("constant_caption") or {}).get("test_bleu")
  if target.op == ">=x_constant" and constant is None:
    raise ValueError(f"{target.metric} target needs the constant caption's "
                     "score (entry['constant_caption']['test_bleu'])")
  value = scores[target.metric]
  met, text = check(target, value, constant)
  missed = [] if met else [f"{target.metric} {value:g}"]
  if target.min_distinct is not None:
    share = entry["distinct_outputs"]
    text += f", distinct outputs >= {target.min_distinct:.0%}"
    if share < target.min_distinct:
      met = False
      missed.append(f"distinct outputs {share:.0%}")
  if target.no_malformed:
    text += ", 0 malformed"
    if scores.get("malformed", 0) != 0:
      met = False
      missed.append(f"{scores['malformed']} malformed")
  return bool(met), text, missed


def row_text(name, target, entry):
  """One problem's line of the printed report: its metric, its share of
  distinct outputs, MET or missed (and by what), the target."""
  value = entry["metrics"][target.metric]
  share = entry["distinct_outputs"]
  verdict = "MET" if entry["met"] else (
      "missed (" + ", ".join(entry.get("missed", [])) + ")")
  extra = ""
  if "malformed" in entry["metrics"]:
    extra += f"; malformed {entry['metrics']['malformed']}"
  if "constant_caption" in entry:
    extra += (f"; constant caption "
              f"{entry['constant_caption']['caption']!r} scores "
              f"{entry['constant_caption']['test_bleu']:.2f}")
  return (f"{name:<26} {target.metric:<12} {value:>8.2f} {share:>8.0%}  "
          f"{verdict}: {entry['target']}{extra}")


def write_outputs(path, refs, hyps):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  clean = lambda t: str(t).replace("\t", " ").replace("\n", " ")
  with open(path, "w", encoding="utf-8") as f:
    f.write("reference\toutput\n")
    for r, h in zip(refs, hyps):
      f.write(f"{clean(r)}\t{clean(h)}\n")


def main():
  ap = argparse.ArgumentParser(description=__doc__)
  ap.add_argument("--output_dir", required=True)
  ap.add_argument("--data_dir", default=None)
  ap.add_argument("--limit", type=int, default=300)
  ap.add_argument("--decode_hparams", default="beam_size=2,batch_size=64")
  ap.add_argument("--json", default=None)
  ap.add_argument("--show_examples", type=int, default=2)
  ap.add_argument("--datagen_s", type=float, default=None)
  ap.add_argument("--train_s", type=float, default=None)
  ap.add_argument("--targets", choices=sorted(TARGETS), default="main")
  ap.add_argument("--outputs_dir", default=None,
                  help="write each problem's decoded test outputs there, "
                  "one TSV per problem: reference, output")
  args = ap.parse_args()
  # pylint: disable=import-outside-toplevel
  import t2tlite  # noqa: F401  (registers the problems, models and sets)
  from t2tlite.data import data_io
  from t2tlite.decode import decoder as decoder_lib
  from t2tlite.experiments import provenance
  # pylint: enable=import-outside-toplevel
  targets = TARGETS[args.targets]
  dec = decoder_lib.Decoder(args.output_dir, args.data_dir,
                            args.decode_hparams)
  step = int(os.path.basename(
      dec.checkpoint_path).rsplit("-", 1)[-1]) if getattr(
          dec, "checkpoint_path", None) else None
  rows, report = [], {}
  started = time.time()
  for name in dec.problems:
    t0 = time.time()
    scores, hyps, refs = dec.evaluate(name, "test", args.limit or None)
    entry = {"metrics": scores, "examples": len(refs),
             "distinct_outputs": distinct_share(hyps),
             "decode_s": round(time.time() - t0, 1),
             "samples": [{"reference": r, "output": h} for r, h in
                         list(zip(refs, hyps))[:args.show_examples]]}
    if args.outputs_dir:
      write_outputs(os.path.join(args.outputs_dir, f"{name}.tsv"), refs,
                    hyps)
    target = targets.get(name)
    if target:
      if target.op == ">=x_constant":
        caption, dev_bleu, constant = best_constant(
            dec.problem(name), dec.data_dir, dec.hparams, refs)
        entry["constant_caption"] = {"caption": caption,
                                     "dev_bleu": dev_bleu,
                                     "test_bleu": constant}
      met, text, missed = judge(target, entry)
      entry.update(target=text, met=met)
      if missed:
        entry["missed"] = missed
      rows.append((name, target, entry))
    report[name] = entry
  print(f"\n{'problem':<26} {'metric':<12} {'value':>8} {'distinct':>8}  "
        f"target  (test, {f'first {args.limit}' if args.limit else 'all'} "
        f"examples, {args.decode_hparams})")
  for name, target, entry in rows:
    print(row_text(name, target, entry))
  for name, entry in report.items():
    for s in entry["samples"]:
      print(f"  {name}\n    ref: {s['reference'][:150]}\n"
            f"    out: {s['output'][:150]}")
  if args.json:
    data_io.write_json(args.json, {
        "commit": commit(), "cpu": provenance.cpu_model(), "cores": os.cpu_count(),
        "output_dir": os.path.abspath(args.output_dir),
        "hparams_set": dec.cfg.get("hparams_set"),
        "problems": list(dec.problems), "step": step,
        "datagen_s": args.datagen_s, "train_s": args.train_s,
        "test_decode_s": round(time.time() - started, 1),
        "decode_hparams": args.decode_hparams, "limit": args.limit,
        "results": report}, indent=1)
    print(f"wrote {args.json}")


if __name__ == "__main__":
  main()
