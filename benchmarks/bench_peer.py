"""t2tlite's Transformer against the PyTorch peer (HF T5), in one run.

  python benchmarks/bench_peer.py [--sections train,generate] [--quick]

train:     target tokens/s of a training step (forward, backward, clipping,
           Adam) of transformer_base at vocabulary 8,192 on batch x length
           source and target tokens (default 64 x 64 = 4,096 per step):
           ours in fp32, with XLA (jit_compile) and in bfloat16 (where the
           hparam mixed_precision takes "bfloat16"), through the trainer's
           own compiled step; the peer (a randomly initialised T5 of the
           same shape, AdamW) in fp32 and under bfloat16 autocast. FLOPs per
           step from the real shapes (forward x 3), MFU against a fp32
           matmul timed in the same run.
generate:  tokens/s of greedy and beam-4 generation at the peer's shapes
           (batch 32, 32-token sources, exactly 64 new tokens), ours through
           t2tlite/decode/search.py with the model's incremental cache, the peer
           through model.generate with its cache.
Every measurement, ours and the peer's, runs in a fresh process of its own
(bench_proc.py), so no run inherits another's threads or memory.
Every figure is printed beside its target (ratio ours / peer) and written to
--json. Without torch or transformers only ours is timed. On a shared CPU
the figures are noisy: compare within one run.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# t2tlite first: it imports TensorFlow with its C++ start-up lines silenced.
import t2tlite  # noqa: E402  (registers models, hparams, modalities)
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from t2tlite import model as model_lib  # noqa: E402
from t2tlite.train import optimization  # noqa: E402
from t2tlite import registry  # noqa: E402
from t2tlite.decode import search  # noqa: E402
from t2tlite.train import train_steps  # noqa: E402
from t2tlite.data.problem import ProblemSpec  # noqa: E402
from t2tlite.data.vocab import EOS_ID  # noqa: E402
import bench_common  # noqa: E402
import bench_proc  # noqa: E402

import bench_multimodel  # noqa: E402  (its fp32 matmul reference)
import peer_t5  # noqa: E402

TARGET = peer_t5.TARGET


def _spec(vocab):
  return ProblemSpec("p", "text", vocab, None, "text", vocab, None, "to_de",
                     2)


def _random_ids(rng, batch, length, vocab):
  # From 2 up: no padding (0) and no EOS (1) in the data.
  return tf.constant(rng.randint(2, vocab, (batch, length)), tf.int64)


def build_ours(hp, vocab, feats):
  """The model at hp's precision (as the trainer sets it), built, and the
  trainer's optimiser."""
  keras.utils.set_random_seed(0)
  model = model_lib.set_precision(
      registry.model("transformer")(hp, [_spec(vocab)]), hp.mixed_precision)
  model(feats, problem="p")
  opt = optimization.optimizer(hp)
  opt.build(model.trainable_variables)
  return model, opt


def ours_train_rate(hp, vocab, feats, steps, warmup):
  """The trainer's own compiled step (clipping, Adam and all), timed."""
  model, opt = build_ours(hp, vocab, feats)
  sig = {k: tf.TensorSpec([None, None], v.dtype) for k, v in feats.items()}
  step = train_steps.train_step(model, opt, hp, "p", sig)
  run = lambda: float(step(feats)["loss"])
  start = time.perf_counter()
  run()  # traces and compiles
  compile_s = time.perf_counter() - start
  for _ in range(warmup - 1):
    run()
  warm_s = time.perf_counter() - start
  start = time.perf_counter()
  for _ in range(steps):
    loss = run()
  sec = (time.perf_counter() - start) / steps
  params = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
  return {"sec_per_step": sec, "compile_s": compile_s, "warmup_s": warm_s,
          "loss": loss, "params": params}


def make_generate(model, beam, alpha=0.6):
  """Greedy (beam 1) or beam search as the decoder runs it, with EOS
  suppressed so every sequence runs to max_len (the peer's
  min_new_tokens does the same)."""

  # Unknown batch and length, as the decoder's signature: one trace.
  @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int64),
                                tf.TensorSpec([], tf.int32)])
  def generate(inputs, max_len):
    batch = tf.shape(inputs)[0]
    state, _ = model.encode(inputs, "p", training=False)
    # The cache is made from the B sources' states, each beam's steps see
    # its source's state (the decoder's contract; see t2tlite/model.py).
    cache = model.init_cache(state, "p", batch * beam, max_len)
    if beam > 1:
      state = search.tile_beams(state, beam)

    def step(ids, i, c):
      logits, c = model.decode_step(state, ids, i, c, "p")
      no_eos = tf.one_hot(EOS_ID, tf.shape(logits)[-1], on_value=-search.INF,
                          off_value=0.0, dtype=logits.dtype)
      return logits + no_eos, c

    if beam <= 1:
      return search.greedy_search(step, cache, batch, max_len)[:, None, :]
    seqs, _ = search.beam_search(step, cache, batch, beam, max_len, alpha)
    return seqs

  return generate


def ours_generate_rate(hp, vocab, batch, src_len, new_tokens, beam, runs):
  rng = np.random.RandomState(1)
  inputs = _random_ids(rng, batch, src_len, vocab)
  model, _ = build_ours(hp, vocab, {"inputs": inputs, "targets": inputs})
  gen = make_generate(model, beam)
  max_len = tf.constant(new_tokens, tf.int32)
  start = time.perf_counter()
  seqs = gen(inputs, max_len)
  compile_s = time.perf_counter() - start
  start = time.perf_counter()
  for _ in range(runs):
    seqs = gen(inputs, max_len).numpy()
  sec = (time.perf_counter() - start) / runs
  generated = sum(peer_t5.generated_length(row, EOS_ID)
                  for row in seqs[:, 0].tolist())
  return {"sec_per_batch": sec, "compile_s": compile_s,
          "generated_tokens": generated, "tokens_per_s": generated / sec}


def _progress(name, run):
  """A line as each run ends (a full run takes minutes)."""
  print(f"  ... {name}: warm-up {run['warmup_s']:.0f} s, "
        f"{run['sec_per_step']:.2f} s/step, peak RSS of its process "
        f"{run['peak_rss_gib']:.1f} GiB", flush=True)


# --- the measurements, each run in a fresh process (bench_proc) -------------
def _feats(batch, length, vocab):
  rng = np.random.RandomState(0)
  return {"inputs": _random_ids(rng, batch, length, vocab),
          "targets": _random_ids(rng, batch, length, vocab)}


# Our training variants: hparams each sets on top of the hparams set.
VARIANTS = (("ours fp32", {}), ("ours fp32 xla", {"jit_compile": True}),
            ("ours bf16", {"mixed_precision": "bfloat16"}))


def _train_worker(hparams_set, overrides, vocab, batch, length, steps,
                  warmup):
  hp = registry.hparams(hparams_set).replace(**overrides)
  return ours_train_rate(hp, vocab, _feats(batch, length, vocab), steps,
                         warmup)


def _generate_worker(hparams_set, **kwargs):
  return ours_generate_rate(registry.hparams(hparams_set), **kwargs)


def _matmul_worker():
  return {"fp32": bench_multimodel.matmul_flops_per_s(),
          "bf16": bench_multimodel.matmul_flops_per_s(dtype=tf.bfloat16)}


HANDLERS = {"train": _train_worker, "generate": _generate_worker,
            "matmul": _matmul_worker}


def ours(kind, **kwargs):
  return bench_proc.run(os.path.abspath(__file__), kind, **kwargs)


def bench_train(args, hp, peer, peak, results):
  b, n, vocab = args.batch, args.length, args.vocab
  flops = 3 * peer_t5.forward_flops(hp, b, n, n, vocab)
  print(f"train {args.hparams_set}, vocab {vocab}, batch {b} x {n} source + "
        f"{n} target tokens ({b * n:,} target tokens/step), "
        f"{flops / 1e9:.1f} GFLOP/step (forward x 3), {args.train_steps} "
        "timed steps each, each run in a fresh process:")
  runs = {}
  shape = {"vocab": vocab, "batch": b, "length": n,
           "steps": args.train_steps, "warmup": args.warmup}
  for name, overrides in VARIANTS:
    runs[name] = ours("train", hparams_set=args.hparams_set,
                      overrides=overrides, **shape)
    _progress(name, runs[name])
  if peer:
    for name, bf16 in (("peer fp32", False), ("peer bf16", True)):
      runs[name] = peer_t5.measure(
          "train", hp, vocab=vocab, batch=b, src_len=n, tgt_len=n,
          steps=args.train_steps, warmup=args.warmup, bf16=bf16)
      _progress(name, runs[name])
  for r in runs.values():
    sec = r["sec_per_step"]
    r.update(tokens_per_s=b * n / sec, gflop_per_s=flops / sec / 1e9,
             mfu_vs_fp32_matmul=flops / sec / peak)
  ratios = peer_t5.train_lines(runs)
  if not peer:
    print(f"  {peer_t5.SKIP_LINE}")
  results["train"] = {"runs": runs, "flops_per_step": flops,
                      "ratios": ratios}


def bench_generate(args, hp, peer, results):
  b, s, new = args.gen_batch, args.gen_source, args.gen_tokens
  beams = (1, args.beam)
  print(f"generate {args.hparams_set}, batch {b}, {s}-token sources, {new} "
        f"new tokens, {args.gen_runs} timed batches each:")
  out = {}
  for beam in beams:
    label = "greedy" if beam == 1 else f"beam {beam}"
    row = {"ours": ours("generate", hparams_set=args.hparams_set,
                        vocab=args.vocab, batch=b, src_len=s,
                        new_tokens=new, beam=beam, runs=args.gen_runs)}
    if peer:
      row["peer"] = peer_t5.measure(
          "generate", hp, vocab=args.vocab, batch=b, src_len=s,
          new_tokens=new, beam=beam, runs=args.gen_runs)
    mine = row["ours"]["tokens_per_s"]
    theirs = row.get("peer", {}).get("tokens_per_s")
    row["ratio"] = peer_t5.ratio(mine, theirs)
    row["target"] = TARGET
    peer_text = (f"peer {theirs:,.0f} tok/s ("
                 f"{row['peer']['generated_tokens']:,} tokens), "
                 if theirs else "")
    print(f"  {label:<7} ours {mine:>7,.0f} tok/s "
          f"({row['ours']['generated_tokens']:,} tokens), {peer_text}"
          f"(target >= {TARGET}x peer: "
          f"{peer_t5.verdict(row['ratio'], TARGET)})")
    out[label] = row
  if not peer:
    print(f"  {peer_t5.SKIP_LINE}")
  results["generate"] = out


def parse_args():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--sections", default="train,generate")
  parser.add_argument("--hparams_set", default="transformer_base")
  parser.add_argument("--vocab", type=int, default=8192)
  parser.add_argument("--batch", type=int, default=64)
  parser.add_argument("--length", type=int, default=64,
                      help="source and target tokens per training example")
  parser.add_argument("--train_steps", type=int, default=10)
  parser.add_argument("--warmup", type=int, default=2,
                      help="untimed steps first (the first one compiles)")
  parser.add_argument("--gen_batch", type=int, default=32)
  parser.add_argument("--gen_source", type=int, default=32)
  parser.add_argument("--gen_tokens", type=int, default=64)
  parser.add_argument("--beam", type=int, default=4)
  parser.add_argument("--gen_runs", type=int, default=2)
  parser.add_argument("--quick", action="store_true",
                      help="tiny sizes, a smoke run of every path")
  bench_common.add_json_flag(parser, "bench_peer")
  args = parser.parse_args()
  if args.quick:
    args.hparams_set, args.vocab, args.batch, args.length = (
        "transformer_tiny", 512, 4, 8)
    args.train_steps, args.warmup = min(args.train_steps, 2), 1
    args.gen_batch, args.gen_source, args.gen_tokens, args.gen_runs = (
        2, 8, 8, 1)
  return args


def main():
  bench_proc.serve(HANDLERS)  # a worker: answers one request and exits
  args = parse_args()
  sections = args.sections.split(",")
  t2tlite.quiet_start_devices()
  tf.random.set_seed(0)
  hp = registry.hparams(args.hparams_set)
  peer = peer_t5.available()
  matmul = ours("matmul")
  peak, peak_bf16 = matmul["fp32"], matmul["bf16"]
  print(f"dense fp32 matmul 1024^3: {peak / 1e9:.1f} GFLOP/s "
        f"({os.cpu_count()} CPUs visible, shared)")
  # TensorFlow's bf16 GEMM on this CPU bounds what mixed precision can gain.
  print(f"dense bf16 matmul 1024^3: {peak_bf16 / 1e9:.1f} GFLOP/s "
        f"({peak_bf16 / peak:.2f}x fp32)")
  results = {"args": vars(args), "cpus": os.cpu_count(),
             "tensorflow": tf.__version__, "matmul_fp32_flops_per_s": peak,
             "matmul_bf16_flops_per_s": peak_bf16,
             "peer": peer_t5.measure("versions", None) if peer else None}
  start = time.perf_counter()
  if "train" in sections:
    bench_train(args, hp, peer, peak, results)
  if "generate" in sections:
    bench_generate(args, hp, peer, results)
  results["total_s"] = time.perf_counter() - start
  print(f"total {results['total_s']:.0f} s")
  bench_common.write_json(args.json, results)


if __name__ == "__main__":
  main()
