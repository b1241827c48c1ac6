"""Input pipelines against the train step: prints figures, asserts nothing.

  python benchmarks/bench_pipeline.py [--data_dir=/tmp/joint/data]
      [--problems=translate_ende_ddtp,...] [--batches=200] [--steps=20]
      [--hparams_set=multimodel_small] [--json=PATH] [--quick]

For each problem (default: every embedded problem found in data_dir):
  pipeline   batches/s of pipeline.batched(problem, data_dir, "train", True)
             alone, after a warm-up, as the trainer reads it (prefetch 2);
  decoded    examples/s of pipeline.dataset() alone (records read, parsed,
             turned into model tensors by the codecs, no batching;
             10 x --batches examples): where a slow pipeline spends its
             time;
  step       train steps/s of the trainer's own compiled step (a Trainer on
             every listed problem, as t2tlite-trainer builds it) on batches
             taken from its streams beforehand, so the step never waits
             (--quick: only the first problem's step);
  ratio      pipeline batches/s / train steps/s (target >= 5x);
  padding    the share of padded positions in the length-bucketed batches,
             inputs and targets apart (target < 15% for text; audio frames
             and images are shown for information).
On a shared CPU the figures are noisy: compare within one run.
"""
import argparse
import logging
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from t2tlite.data import problem as problem_lib
from t2tlite.data import pipeline
import t2tlite  # noqa: E402  (registers everything; quiets TF's import)
import numpy as np  # noqa: E402
from t2tlite.data import data_io  # noqa: E402
from t2tlite import registry  # noqa: E402
from t2tlite.train import trainer as trainer_lib  # noqa: E402
import bench_common  # noqa: E402

EMBEDDED = ("translate_ende_ddtp", "translate_enfr_ddtp", "image_fashion_mnist",
            "speech_tts_en", "parsing_english_silver", "image_caption_tuxpaint")
RATIO_TARGET = 5.0
PAD_TARGET = 0.15


def _present(names, data_dir):
  out = []
  for name in names:
    try:
      pipeline.shard_files(registry.problem(name), data_dir, "train")
      out.append(name)
    except data_io.DataError:
      print(f"{name}: no train shards in {data_dir}; left out")
  return out


def _rate(iterator, warmup, n):
  """Items/s of `n` next() calls after `warmup`; returns (rate, items)."""
  for _ in range(warmup):
    next(iterator)
  items = []
  start = time.perf_counter()
  for _ in range(n):
    items.append(next(iterator))
  return n / (time.perf_counter() - start), items


def pipeline_rate(problem, data_dir, hp, warmup, n):
  ds = pipeline.batched(problem, data_dir, "train", hp, training=True,
                        seed=hp.seed)
  return _rate(iter(ds.prefetch(2)), warmup, n)


def decoded_rate(problem, data_dir, hp, warmup, n):
  ds = pipeline.dataset(problem, data_dir, "train", hp, training=True, seed=hp.seed)
  return _rate(iter(ds), warmup, n)[0]


def padding_share(batches, key, modality):
  """Padded positions / all positions over the batches; None if unpadded.

  Text pads with id 0 (never a real token); an audio frame of all zeros is
  padding to the audio modality too. Images are never padded.
  """
  padded = total = 0
  for b in batches:
    x = np.asarray(b[key])
    if modality == "text":
      pad = x == 0
    elif modality.startswith("audio"):  # frames [B, T, bins] or samples
      pad = np.all(x == 0, axis=-1) if x.ndim == 3 else x == 0
    else:
      return None
    padded += int(pad.sum())
    total += pad.size
  return padded / max(total, 1)


def positions(batches, key, modality):
  """Mean batch size and sequence positions per batch (None: images)."""
  shapes = [np.asarray(b[key]).shape for b in batches]
  size = float(np.mean([s[0] for s in shapes]))
  if modality != "text" and not modality.startswith("audio"):
    return size, None
  return size, float(np.mean([s[0] * s[1] for s in shapes]))


def step_rates(names, args, hp, n):
  """Train steps/s per problem of the Trainer's compiled steps."""
  logging.getLogger("t2tlite").setLevel(logging.WARNING)
  rates = {}
  with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as out:
    start = time.perf_counter()
    trainer = trainer_lib.Trainer(names, args.model, args.hparams_set, hp,
                                  args.data_dir, out)
    print(f"trainer built in {time.perf_counter() - start:.0f} s "
          f"({args.model} {args.hparams_set}, {len(names)} problems)")
    for name in names:
      stream = trainer.streams[name]
      batches = [next(stream) for _ in range(n + 1)]
      step = trainer._train_steps[name]  # pylint: disable=protected-access
      start = time.perf_counter()
      float(step(batches[0])["loss"])  # traces and compiles
      compile_s = time.perf_counter() - start
      start = time.perf_counter()
      for b in batches[1:]:
        float(step(b)["loss"])  # as the trainer does, every step
      rates[name] = (n / (time.perf_counter() - start), compile_s)
  return rates


def _fmt_pad(share):
  return "  -  " if share is None else f"{share:5.1%}"


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--data_dir", default="/tmp/joint/data")
  parser.add_argument("--problems", default=",".join(EMBEDDED))
  parser.add_argument("--model", default="multimodel")
  parser.add_argument("--hparams_set", default="multimodel_small")
  parser.add_argument("--hparams", default="", help="overrides, k=v,...")
  parser.add_argument("--batches", type=int, default=200)
  parser.add_argument("--warmup", type=int, default=20)
  parser.add_argument("--steps", type=int, default=20)
  parser.add_argument("--no_step", action="store_true",
                      help="pipelines and padding only")
  bench_common.add_json_flag(parser, "bench_pipeline")
  parser.add_argument("--quick", action="store_true",
                      help="smoke run: few batches and steps")
  args = parser.parse_args()
  t2tlite.quiet_start_devices()
  if args.quick:
    args.batches, args.warmup, args.steps = 8, 2, 2
  hp = registry.hparams(args.hparams_set).override(args.hparams)
  names = _present([n.strip() for n in args.problems.split(",") if n],
                   args.data_dir)
  print(f"{os.cpu_count()} CPUs visible (shared); {args.hparams_set}: "
        f"batch_size {hp.batch_size} tokens, image_batch_size "
        f"{hp.image_batch_size}, audio_batch_frames "
        f"{hp.audio_batch_frames}, max_length {hp.max_length}")
  results = {}
  for name in names:
    p = registry.problem(name)
    spec = problem_lib.spec(p, args.data_dir)
    ex_rate = decoded_rate(p, args.data_dir, hp, args.warmup,
                           10 * args.batches)
    rate, batches = pipeline_rate(p, args.data_dir, hp, args.warmup,
                                  args.batches)
    size, in_pos = positions(batches, "inputs", spec.input_modality)
    _, out_pos = positions(batches, "targets", spec.target_modality)
    results[name] = {
        "pipeline_batches_per_s": rate, "decoded_examples_per_s": ex_rate,
        "examples_per_batch": size, "input_positions_per_batch": in_pos,
        "target_positions_per_batch": out_pos,
        "input_modality": spec.input_modality,
        "target_modality": spec.target_modality,
        "pad_inputs": padding_share(batches, "inputs", spec.input_modality),
        "pad_targets": padding_share(batches, "targets",
                                     spec.target_modality)}
    pos = " / ".join("-" if x is None else f"{x:.0f}"
                     for x in (in_pos, out_pos))
    print(f"{name}: pipeline {rate:.1f} batches/s ({size:.0f} examples, "
          f"{pos} input / target positions per batch), decoded "
          f"{ex_rate:.0f} examples/s")
  # A smoke run compiles one problem's step only (compiling is most of it).
  step_names = names[:1] if args.quick else names
  if not args.no_step and names:
    for name, (sps, compile_s) in step_rates(step_names, args, hp,
                                             args.steps).items():
      results[name]["train_steps_per_s"] = sps
      results[name]["step_compile_s"] = compile_s
      print(f"{name}: train step {sps:.2f} steps/s (first call, with "
            f"tracing, {compile_s:.0f} s)")
      results[name]["ratio"] = results[name]["pipeline_batches_per_s"] / sps

  print(f"\n{'problem':<24} {'batches/s':>9} {'steps/s':>8} "
        f"{'ratio (target >= 5x)':>22} {'pad in':>7} {'pad out':>7}"
        "  (padding target < 15% for text)")
  for name, r in results.items():
    ratio = r.get("ratio")
    verdict = ("" if ratio is None else
               "met" if ratio >= RATIO_TARGET else "MISSED")
    ratio_s = "-" if ratio is None else f"{ratio:.1f}x {verdict}"
    pads = []
    for side in ("inputs", "targets"):
      share = r[f"pad_{side}"]
      text = r[f"{'input' if side == 'inputs' else 'target'}_modality"]
      flag = ""
      if share is not None and text == "text":
        flag = "" if share < PAD_TARGET else "!"
        r[f"pad_{side}_met"] = share < PAD_TARGET
      pads.append(_fmt_pad(share) + flag)
    steps = r.get("train_steps_per_s")
    print(f"{name:<24} {r['pipeline_batches_per_s']:9.1f} "
          f"{'-' if steps is None else f'{steps:.2f}':>8} {ratio_s:>22} "
          f"{pads[0]:>7} {pads[1]:>7}")
    if ratio is not None:
      r["ratio_met"] = ratio >= RATIO_TARGET
  print("(! = text padding at or above the 15% target: MISSED)")
  bench_common.write_json(args.json, {
      "settings": {"data_dir": args.data_dir, "model": args.model,
                   "hparams_set": args.hparams_set, "hparams": args.hparams,
                   "batches": args.batches, "steps": args.steps,
                   "cpus": os.cpu_count()},
      "targets": {"ratio": RATIO_TARGET, "text_padding_below": PAD_TARGET},
      "problems": results})

if __name__ == "__main__":
  main()
