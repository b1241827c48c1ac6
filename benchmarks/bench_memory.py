"""Training memory and decoder-CLI throughput: prints figures, asserts nothing.

  python benchmarks/bench_memory.py [--only=memory,decode]
      [--data_dir=/tmp/joint/data] [--output_dir=TRAINED_RUN]
      [--sentences=200] [--json=PATH] [--quick]

memory  peak resident memory (VmHWM) of a fresh process (bench_proc) that
        builds --model/--hparams_set (multimodel / multimodel_base) and runs
        --train_steps (5) of the trainer's kind of step (GradientTape, dense
        gradients, clipping, the trainer's Adam) on translation-shaped
        batches of 64 x 64 tokens (4,096 per batch, vocabulary 8,192);
        target < 6 GiB. RSS after start-up and after the first step is
        shown beside it (where the memory goes).
decode  the decoder CLI's sentences/s (t2tlite.decode.decoder.Decoder.decode_lines,
        the library behind t2tlite-decoder) on the first --sentences English
        lines of translate_ende_ddtp's test split, batched (decode_hparams
        batch_size=64) against one at a time (batch_size=1), other decode
        hparams at the CLI's defaults (beam_size=4) or --decode_hparams.
        The checkpoint is --output_dir; without it a transformer_tiny is
        trained for --tiny_steps steps into a temporary folder. An untrained
        model's speed differs from a trained one's only by how long its
        outputs are, so output lengths (subword tokens) are shown too.
"""
import argparse
import os
import tempfile
import time

import bench_common  # noqa: E402
import bench_proc  # noqa: E402

MEMORY_TARGET = 6 * 2 ** 30
VOCAB = 8192


def _rss_now():
  with open("/proc/self/statm") as f:
    return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# --- memory: in a fresh process (bench_proc) ---------------------------------
def memory_child(**spec):
  import numpy as np
  import t2tlite  # noqa: F401  (registers models and hparams)
  import tensorflow as tf
  from t2tlite.train import optimization
  from t2tlite import registry
  from t2tlite.train import train_steps
  from t2tlite.data.problem import ProblemSpec
  t2tlite.quiet_start_devices()
  started = _rss_now()
  hp = registry.hparams(spec["hparams_set"])
  b, t = spec["batch"], spec["length"]
  pspec = ProblemSpec("p", "text", VOCAB, "v", "text", VOCAB, "v", "to_de", 2)
  model = registry.model(spec["model"])(hp, [pspec])
  rng = np.random.RandomState(0)
  feats = {"inputs": tf.constant(rng.randint(2, VOCAB, (b, t)), tf.int64),
           "targets": tf.constant(rng.randint(2, VOCAB, (b, t)), tf.int64)}
  model(feats, problem="p", training=False)
  opt = optimization.optimizer(hp)
  opt.build(model.trainable_variables)
  params = sum(int(np.prod(v.shape)) for v in model.trainable_variables)

  sig = {k: tf.TensorSpec([None, None], v.dtype) for k, v in feats.items()}
  train_step = train_steps.train_step(model, opt, hp, "p", sig)
  step = lambda features: train_step(features)["total_loss"]  # the trainer's

  built = _rss_now()
  first = time.perf_counter()
  float(step(feats))
  first = time.perf_counter() - first
  after_first = _rss_now()
  start = time.perf_counter()
  for _ in range(spec["steps"] - 1):
    float(step(feats))
  sec = (time.perf_counter() - start) / max(spec["steps"] - 1, 1)
  return {"params": params, "rss_started": started, "rss_built": built,
          "rss_after_first_step": after_first, "first_step_s": first,
          "step_s": sec}


def bench_memory(args):
  spec = {"model": args.model, "hparams_set": args.hparams_set,
          "batch": 64, "length": 64, "steps": args.train_steps}
  res = bench_proc.run(os.path.abspath(__file__), "memory", **spec)
  res["peak_rss_bytes"] = res["peak_rss_gib"] * 2 ** 30
  res["target_bytes"] = MEMORY_TARGET
  res["met"] = res["peak_rss_bytes"] < MEMORY_TARGET
  gib = lambda x: x / 2 ** 30
  print(f"memory {args.hparams_set} training, 64 x 64 = 4,096 tokens per "
        f"batch ({res['params'] / 1e6:.1f}M params, {args.train_steps} "
        f"steps, {res['step_s']:.2f} s/step): peak RSS "
        f"{gib(res['peak_rss_bytes']):.2f} GiB  (target < 6 GiB: "
        f"{'met' if res['met'] else 'MISSED'}; peer transformer_base shape "
        f"3.4 GiB, from the issue); after start-up "
        f"{gib(res['rss_started']):.2f} GiB, model and Adam built "
        f"{gib(res['rss_built']):.2f} GiB, after the first step "
        f"{gib(res['rss_after_first_step']):.2f} GiB")
  return res


# --- decode ------------------------------------------------------------------
def _tiny_run(args, out_dir):
  from t2tlite.train import trainer as trainer_lib
  start = time.perf_counter()
  trainer_lib.train(["translate_ende_ddtp"], "transformer",
                    args.tiny_hparams_set, args.data_dir, out_dir,
                    train_steps=args.tiny_steps, eval_every=10 ** 9,
                    eval_steps=1, log_every=10 ** 9)
  print(f"trained {args.tiny_hparams_set} for {args.tiny_steps} steps in "
        f"{time.perf_counter() - start:.0f} s into {out_dir}")


def _test_lines(data_dir, n):
  from t2tlite import registry
  from t2tlite.data import pipeline
  from t2tlite.data import problem as problem_lib
  p = registry.problem("translate_ende_ddtp")
  hp = registry.hparams("transformer_tiny")
  vocab = problem_lib.vocab(p, data_dir)
  ds = pipeline.dataset(p, data_dir, "test", hp, training=False).take(n)
  return [vocab.decode(ex["inputs"]) for ex in ds.as_numpy_iterator()]


def bench_decode(args):
  import t2tlite  # noqa: F401
  import numpy as np
  from t2tlite.data import problem as problem_lib
  from t2tlite.decode import decoder as decoder_lib
  t2tlite.quiet_start_devices()
  lines = _test_lines(args.data_dir, args.sentences)
  tmp = None
  out_dir = args.output_dir
  if not out_dir:
    tmp = tempfile.TemporaryDirectory(prefix="bench_memory_tiny_")
    out_dir = tmp.name
    _tiny_run(args, out_dir)
  results = {"output_dir": args.output_dir or f"(temporary "
             f"{args.tiny_hparams_set}, {args.tiny_steps} steps)",
             "sentences": len(lines)}
  try:
    for bs in (64, 1):
      text = ",".join(x for x in (args.decode_hparams, f"batch_size={bs}")
                      if x)
      dec = decoder_lib.Decoder(out_dir, args.data_dir, text)
      dec.decode_lines("translate_ende_ddtp", lines[:2])  # compile
      start = time.perf_counter()
      outs = dec.decode_lines("translate_ende_ddtp", lines)
      sec = time.perf_counter() - start
      vocab = problem_lib.vocab(dec.problem("translate_ende_ddtp"),
                                dec.vocab_dir)
      lengths = [len(vocab.encode(o)) + 1 for o in outs]  # + EOS
      results[f"batch_{bs}"] = {
          "decode_hparams": text, "seconds": sec,
          "sentences_per_s": len(lines) / sec,
          "output_tokens_mean": float(np.mean(lengths)),
          "output_tokens_max": int(max(lengths)),
          "output_tokens_per_s": sum(lengths) / sec}
  finally:
    if tmp is not None:
      tmp.cleanup()
  inputs = [len(l.split()) for l in lines]
  b64, b1 = results["batch_64"], results["batch_1"]
  results["speedup"] = b64["sentences_per_s"] / b1["sentences_per_s"]
  print(f"decoder CLI, translate_ende_ddtp test, {len(lines)} sentences "
        f"({np.mean(inputs):.0f} words on average), {results['output_dir']}:")
  for bs, r in ((64, b64), (1, b1)):
    print(f"  batch_size={bs:<2}: {r['sentences_per_s']:.2f} sentences/s, "
          f"{r['output_tokens_per_s']:.0f} output tokens/s; outputs "
          f"{r['output_tokens_mean']:.1f} tokens on average, "
          f"{r['output_tokens_max']} at most")
  print(f"  batched / one at a time: x{results['speedup']:.1f} "
        "(no target in the issue: shown)")
  return results


def main():
  bench_proc.serve({"memory": memory_child})  # the measuring process
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--only", default="memory,decode")
  parser.add_argument("--model", default="multimodel")
  parser.add_argument("--hparams_set", default="multimodel_base")
  parser.add_argument("--train_steps", type=int, default=5)
  parser.add_argument("--data_dir", default="/tmp/joint/data")
  parser.add_argument("--output_dir", default="",
                      help="a trained run holding translate_ende_ddtp")
  parser.add_argument("--sentences", type=int, default=200)
  parser.add_argument("--decode_hparams", default="",
                      help="besides batch_size, e.g. beam_size=1")
  parser.add_argument("--tiny_hparams_set", default="transformer_tiny")
  parser.add_argument("--tiny_steps", type=int, default=20)
  bench_common.add_json_flag(parser, "bench_memory")
  parser.add_argument("--quick", action="store_true",
                      help="smoke run: multimodel_tiny, 2 steps, 12 lines")
  args = parser.parse_args()
  if args.quick:
    args.hparams_set, args.train_steps = "multimodel_tiny", 2
    args.sentences, args.tiny_steps = 12, 2
  parts = [p.strip() for p in args.only.split(",")]
  results = {}
  if "memory" in parts:
    results["memory"] = bench_memory(args)
  if "decode" in parts:
    results["decode"] = bench_decode(args)
  bench_common.write_json(args.json, {
      "settings": vars(args),
      "targets": {"peak_rss_below_bytes": MEMORY_TARGET},
      "results": results})


if __name__ == "__main__":
  main()
