"""BLEU of the constant baseline for a captioning (or any text-target)
problem: always answer the most frequent training target. A trained model
must beat it for its BLEU to mean anything.

  python benchmarks/caption_baseline.py --data_dir=D \
      --problem=image_caption_tuxpaint
"""
import argparse
import collections

import t2tlite  # noqa: F401
from t2tlite import metrics
from t2tlite import registry
from t2tlite.data import pipeline


def main():
  ap = argparse.ArgumentParser(description=__doc__)
  ap.add_argument("--data_dir", required=True)
  ap.add_argument("--problem", default="image_caption_tuxpaint")
  ap.add_argument("--split", default="test")
  args = ap.parse_args()
  p = registry.problem(args.problem)
  hp = registry.hparams("multimodel_small")
  train = collections.Counter(
      ref for _, ref in pipeline.eval_pairs(p, args.data_dir, "train", hp))
  best, count = train.most_common(1)[0]
  refs = [ref for _, ref in
          pipeline.eval_pairs(p, args.data_dir, args.split, hp)]
  scores = metrics.score(p, [best] * len(refs), refs)
  print(f"most frequent training target ({count} of {sum(train.values())}):"
        f" {best!r}")
  print(f"{args.problem} {args.split} ({len(refs)} examples), constant "
        f"baseline: " + " ".join(f"{k}={v}" for k, v in scores.items()))


if __name__ == "__main__":
  main()
