"""The reference a classifier must not fall behind: a plain small CNN.

Trains a two-block Keras CNN (conv 32, conv 64, max-pool, dense 128) on an
image classification problem's own input pipeline (same splits, same
augmentation hparams as the framework's models) for a fixed wall-clock time, then
prints its test accuracy beside the wall-clock training time. With
--eval_every it also writes a learning curve: accuracy on the first
--eval_limit dev images every N steps, as eval.jsonl records (step,
wall_s, decoded_accuracy) that scripts/plot_learning.py draws beside the
framework's runs.

  python benchmarks/image_cnn_baseline.py --data_dir=D \
      --problem=image_fashion_mnist --minutes=5
"""
import argparse
import json
import os
import time

import numpy as np

import t2tlite  # noqa: F401
from t2tlite import registry
from t2tlite.data import pipeline
from t2tlite.data.codecs import image as image_codec


def small_cnn(num_classes, size, channels):
  import keras  # pylint: disable=import-outside-toplevel
  L = keras.layers
  return keras.Sequential([
      L.Input((size, size, channels)),
      L.Rescaling(1 / 127.5, offset=-1.0),
      L.Conv2D(32, 3, activation="relu", padding="same"),
      L.MaxPooling2D(),
      L.Conv2D(64, 3, activation="relu", padding="same"),
      L.MaxPooling2D(),
      L.Flatten(),
      L.Dense(128, activation="relu"),
      L.Dropout(0.3),
      L.Dense(num_classes),
  ])


def counts(model, batches, limit=0):
  """(correct, total) over the batches, or over their first `limit` images."""
  correct = total = 0
  for x, y in batches:
    pred, y = np.argmax(model.predict_on_batch(x), -1), y.numpy()
    if limit:
      pred, y = pred[:limit - total], y[:limit - total]
    correct += int(np.sum(pred == y))
    total += len(pred)
    if limit and total >= limit:
      break
  return correct, total


def accuracy(model, batches, limit):
  correct, total = counts(model, batches, limit)
  return round(correct / total, 4)


def main():
  ap = argparse.ArgumentParser(description=__doc__)
  ap.add_argument("--data_dir", required=True)
  ap.add_argument("--problem", default="image_fashion_mnist")
  ap.add_argument("--minutes", type=float, default=5.0)
  ap.add_argument("--batch_size", type=int, default=64)
  ap.add_argument("--augment", default="true")
  ap.add_argument("--steps", type=int, default=0,
                  help="train this many steps instead of --minutes")
  ap.add_argument("--json", default=None, help="also write the result here")
  ap.add_argument("--eval_every", type=int, default=0,
                  help="dev accuracy every N steps, to --eval_jsonl")
  ap.add_argument("--eval_limit", type=int, default=200)
  ap.add_argument("--eval_jsonl", default=None)
  args = ap.parse_args()
  if args.eval_every and not args.eval_jsonl:
    ap.error("--eval_every needs --eval_jsonl")
  import keras  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  p = registry.problem(args.problem)
  hp = registry.hparams("multimodel_small").replace(
      image_batch_size=args.batch_size,
      image_augment=args.augment.lower() == "true")
  pairs = lambda ds: ds.map(lambda ex: (ex["inputs"], ex["targets"][:, 0]))
  train = pairs(pipeline.batched(p, args.data_dir, "train", hp,
                                 True)).prefetch(4)
  test = pairs(pipeline.batched(p, args.data_dir, "test", hp, False))
  dev = (pairs(pipeline.batched(p, args.data_dir, "dev", hp, False))
         if args.eval_every else None)
  model = small_cnn(len(p.class_names), image_codec.input_size(p, hp), p.channels)
  model.compile(keras.optimizers.Adam(1e-3),
                keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                metrics=["accuracy"])
  start, steps, eval_s = time.time(), 0, 0.0
  it = iter(train)
  def more():
    if args.steps:
      return steps < args.steps
    return time.time() - start < args.minutes * 60
  chunk = args.eval_every or 100
  while more():
    for _ in range(min(chunk, args.steps - steps) if args.steps else chunk):
      model.train_on_batch(*next(it))
      steps += 1
    if args.eval_every:
      t = time.time()
      record = {"step": steps, "problem": args.problem,
                "wall_s": round(t - start - eval_s, 1),
                "decoded_accuracy": accuracy(model, dev, args.eval_limit)}
      with open(args.eval_jsonl, "a") as f:
        f.write(json.dumps(record) + "\n")
      eval_s += time.time() - t
  seconds = time.time() - start - eval_s
  correct, total = counts(model, test)
  print(f"{args.problem} small CNN: {steps} steps of {args.batch_size} in "
        f"{seconds:.0f}s wall time, test accuracy {correct / total:.4f} "
        f"({total} test images)")
  if args.json:
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
      json.dump({"problem": args.problem, "model": "small_cnn",
                 "steps": steps, "batch_size": args.batch_size,
                 "train_s": round(seconds, 1),
                 "metrics": {"accuracy": round(correct / total, 4)},
                 "examples": total}, f, indent=1)
  del tf


if __name__ == "__main__":
  main()
