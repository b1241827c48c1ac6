"""The main job's test report: each problem's decoded test metric beside its
target, written to a JSON file (benchmarks/results/main_job.json).

  python scripts/main_job_report.py --output_dir=O --limit=300 \
      --json=benchmarks/results/main_job.json --datagen_s=.. --train_s=..

Besides each problem's own metrics it reports the share of distinct
outputs (a speech model that says one sentence for every clip is not
trained) and, for captions, the best constant caption: the training
caption with the highest BLEU on the dev split, scored on the same test
examples (the trivial baseline a caption model must beat).
"""
import argparse
import collections
import json
import os
import time

import t2tlite  # noqa: F401  (registers the problems, models and sets)
from t2tlite import metrics
from t2tlite.data import data_io
from t2tlite.data import pipeline
from t2tlite.decode import decoder as decoder_lib
from t2tlite.experiments import provenance

# problem -> (metric, "min" or "max" target, value); captions: a multiple of
# the best constant caption's BLEU. "main": the main job's targets,
# "quality": those of the 2-hour quality run (scripts/quality_run.sh).
MAIN_TARGETS = {
    "translate_ende_ddtp": ("bleu", ">=", 12.0),
    "translate_ende_ddtp_rev": ("bleu", ">=", 12.0),
    "translate_enfr_ddtp": ("bleu", ">=", 12.0),
    "translate_enfr_ddtp_rev": ("bleu", ">=", 12.0),
    "image_fashion_mnist": ("accuracy", ">=", 0.88),
    "speech_tts_en": ("wer", "<=", 50.0),
    "speech_tts_en_chars": ("wer", "<=", 50.0),
    "parsing_english_silver": ("labelled_f1", ">=", 70.0),
    "image_caption_tuxpaint": ("bleu", ">=x_constant", 2.0),
}
QUALITY_TARGETS = {
    "translate_ende_ddtp": ("bleu", ">=", 25.0),
    "translate_enfr_ddtp": ("bleu", ">=", 30.0),
    "image_fashion_mnist": ("accuracy", ">=", 0.92),
    "speech_tts_en": ("wer", "<=", 15.0),
    "speech_tts_en_chars": ("wer", "<=", 15.0),
    "parsing_english_silver": ("labelled_f1", ">=", 88.0),
    "image_caption_tuxpaint": ("bleu", ">=x_constant", 3.0),
}
TARGETS = {"main": MAIN_TARGETS, "quality": QUALITY_TARGETS}


def best_constant(problem, data_dir, hparams, refs):
  """(caption, its dev BLEU, its BLEU on `refs`): the training caption that
  scores best on the whole dev split."""
  pairs = lambda split: pipeline.eval_pairs(problem, data_dir, split, hparams)
  train = collections.Counter(ref for _, ref in pairs("train"))
  dev = [ref for _, ref in pairs("dev")]
  scored = [(metrics.score(problem, [c] * len(dev), dev)["bleu"], c)
            for c in train]
  dev_bleu, caption = max(scored)
  return caption, dev_bleu, metrics.score(problem, [caption] * len(refs),
                                          refs)["bleu"]


def commit():
  return provenance.code_commit()[0] or "unknown"


def check(target, value, constant=None):
  metric, op, bound = target
  if op == ">=":
    return value >= bound, f"{metric} >= {bound:g}"
  if op == "<=":
    return value <= bound, f"{metric} <= {bound:g}"
  need = bound * constant
  return value >= need, (f"{metric} >= {bound:g} x constant caption "
                         f"({need:.2f})")


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
             "distinct_outputs": round(len(set(hyps)) / max(len(hyps), 1),
                                       4),
             "decode_s": round(time.time() - t0, 1),
             "samples": [{"reference": r, "output": h} for r, h in
                         list(zip(refs, hyps))[:args.show_examples]]}
    if args.outputs_dir:
      write_outputs(os.path.join(args.outputs_dir, f"{name}.tsv"), refs,
                    hyps)
    target = targets.get(name)
    if target:
      constant = None
      if target[1] == ">=x_constant":
        caption, dev_bleu, constant = best_constant(
            dec.problem(name), dec.data_dir, dec.hparams, refs)
        entry["constant_caption"] = {"caption": caption,
                                     "dev_bleu": dev_bleu,
                                     "test_bleu": constant}
      value = scores[target[0]]
      met, text = check(target, value, constant)
      if name.startswith("speech"):
        distinct_ok = entry["distinct_outputs"] >= 0.9
        met = met and distinct_ok
        text += ", distinct outputs >= 90%"
      if name.startswith("parsing"):
        met = met and scores.get("malformed", 0) == 0
        text += ", 0 malformed"
      entry.update(target=text, met=bool(met))
      rows.append((name, target[0], value, text, met, entry))
    report[name] = entry
  print(f"\n{'problem':<26} {'metric':<12} {'value':>8}  target  "
        f"(test, {f'first {args.limit}' if args.limit else 'all'} examples, "
        f"{args.decode_hparams})")
  for name, metric, value, text, met, entry in rows:
    extra = f"; distinct {entry['distinct_outputs']:.0%}"
    if "malformed" in entry["metrics"]:
      extra += f"; malformed {entry['metrics']['malformed']}"
    if "constant_caption" in entry:
      extra += (f"; constant caption "
                f"{entry['constant_caption']['caption']!r} scores "
                f"{entry['constant_caption']['test_bleu']:.2f}")
    print(f"{name:<26} {metric:<12} {value:>8.2f}  "
          f"{'MET' if met else 'missed'}: {text}{extra}")
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
