"""MultiModel speed on this machine: prints figures, asserts nothing.

  python benchmarks/bench_multimodel.py [--sections train,moe,decode,parts]
      [--json PATH] [--decode_hparams multimodel_base] [--decode_lengths ...]

train:  throughput (target tokens/s) of the trainer's own train step
        (t2tlite/train/train_steps.py: loss, clipping, Adam) for multimodel_tiny
        and multimodel_base on translation-shaped batches (64 x 64), the
        model FLOPs of a step counted from the real shapes (forward x 3), and
        the achieved FLOP/s as a fraction of a dense fp32 matmul's FLOP/s
        measured in the same run (MFU; target >= 45% for multimodel_base).
moe:    one MoE layer (forward + backward, k = 2) with 8, 32 and 128 experts
        on 4,096 tokens, and a dense FFN of the same active size.
decode: beam search (beam 4, 32-token sources) with the incremental caches
        against the base class's full recomputation (the whole prefix run
        again at every step), at 16, 64 and 256 output tokens; both must
        return the same beams (target: >= 10x at 256).
parts:  where a train step's time goes: TensorFlow's profiler traces two
        steps, each op's time is summed by the part of the model its name
        scope belongs to, and each part's share of the summed op time (ops
        of the 2 inter-op threads overlap, so it exceeds the wall time),
        FLOPs and FLOP/s over its op time are printed.
On a shared CPU the figures are noisy: compare within one run.
"""
import argparse
import collections
import glob
import os
import re
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from t2tlite import model as model_lib  # noqa: E402
from t2tlite.train import optimization  # noqa: E402
from t2tlite import registry  # noqa: E402
from t2tlite.decode import search  # noqa: E402
from t2tlite.train import train_steps  # noqa: E402
from t2tlite.hparams import multimodel as _hparams  # noqa: E402,F401
from t2tlite.layers import common  # noqa: E402
from t2tlite.layers import moe  # noqa: E402
from t2tlite.modalities import text as _text  # noqa: E402,F401
from t2tlite.models.multimodel import blocks  # noqa: E402
from t2tlite.models.multimodel import body  # noqa: E402
from t2tlite.data.problem import ProblemSpec  # noqa: E402
import bench_common  # noqa: E402

VOCAB = 8192
MFU_TARGET = 0.45
DECODE_TARGET = 10.0


def _spec():
  return ProblemSpec("p", "text", VOCAB, None, "text", VOCAB, None, "to_de",
                     2)


def _timed(fn, runs):
  fn()  # compile and warm up
  start = time.perf_counter()
  for _ in range(runs):
    out = fn()
  if isinstance(out, tf.Tensor):
    out.numpy()
  return (time.perf_counter() - start) / runs


def _verdict(value, target):
  return "met" if value >= target else "MISSED"


# --- FLOP counts (multiply-add = 2 FLOPs), forward pass ---------------------
def part_flops(hp, b, s, t, vocab=VOCAB):
  """Forward FLOPs of each part of the model (the keys of `parts`)."""
  d = hp.hidden_size
  flops = collections.Counter()

  def conv_blocks(n, length):  # a SepConv: depthwise k taps, pointwise d
    for k, _ in blocks.CONV_BLOCK_STEPS:
      flops["conv: depthwise"] += n * 2 * b * length * d * k
      flops["conv: pointwise"] += n * 2 * b * length * d * d

  def attention(n, tq, tk):  # projections q, o over tq and k, v over tk
    flops["attention"] += n * (2 * b * d * d * (2 * tq + 2 * tk) +
                               4 * b * tq * tk * d)

  def ffn(tokens):
    e, h, k = hp.moe_num_experts, hp.moe_hidden_size, hp.moe_k
    if hp.use_moe:
      gate = moe.moe_flops(tokens, d, h, e, 0)  # the gate alone
      flops["moe: experts"] += moe.moe_flops(tokens, d, h, e, k) - gate
      flops["moe: gating, dispatch"] += gate
    else:
      flops["moe: experts"] += 2 * tokens * 2 * d * k * h

  conv_blocks(hp.num_encoder_blocks, s)
  ffn(b * s)
  if hp.encoder_self_attention:
    attention(hp.num_encoder_blocks // 2, s, s)
  conv_blocks(hp.attention_conv_blocks + hp.mixer_conv_blocks, t)
  attention(1, t, t)
  attention(1, t, s)
  conv_blocks(hp.num_decoder_blocks * hp.attention_conv_blocks, t)
  if hp.decoder_attention:
    attention(hp.num_decoder_blocks, t, t)
    attention(hp.num_decoder_blocks, t, s)
  ffn(b * t)
  flops["modality nets"] += 2 * b * t * d * vocab  # the top's logits
  return flops


def forward_flops(hp, b, s, t, vocab=VOCAB):
  return sum(part_flops(hp, b, s, t, vocab).values())


def matmul_flops_per_s(n=1024, runs=20, dtype=tf.float32):
  """FLOP/s of a dense n x n matmul chain in `dtype` (the MFU reference)."""
  a = tf.cast(tf.random.normal([n, n]), dtype)
  c = tf.cast(tf.random.normal([n, n]), dtype)

  @tf.function
  def mm():
    x = a
    for _ in range(4):
      x = tf.matmul(x, c) * 1e-3
    return x

  return 4 * 2 * n ** 3 / _timed(mm, runs)


# --- sections --------------------------------------------------------------
def _train_step(name, batch=64, length=64):
  """(hparams, the trainer's compiled train step on a translation-shaped
  batch, parameter count)."""
  rng = np.random.RandomState(0)
  feats = {k: tf.constant(rng.randint(1, VOCAB, (batch, length)), tf.int32)
           for k in ("inputs", "targets")}
  hp = registry.hparams(name)
  model = body.MultiModel(hp, [_spec()])
  model(feats, problem="p")
  opt = optimization.optimizer(hp)
  opt.build(model.trainable_variables)
  sig = {k: tf.TensorSpec([None, None], v.dtype) for k, v in feats.items()}
  train_step = train_steps.train_step(model, opt, hp, "p", sig)
  step = lambda: train_step(feats)["total_loss"]
  params = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
  return hp, step, params


def bench_train(peak, results):
  for name, runs in (("multimodel_tiny", 10), ("multimodel_base", 3)):
    hp, step, params = _train_step(name)
    start = time.perf_counter()
    step()
    compile_s = time.perf_counter() - start
    sec = _timed(step, runs)
    flops = 3 * forward_flops(hp, 64, 64, 64)
    mfu = flops / sec / peak
    target = (f"  (target >= {MFU_TARGET:.0%}: {_verdict(mfu, MFU_TARGET)})"
              if name == "multimodel_base" else "")
    print(f"train {name}: {params / 1e6:.2f}M params, compile {compile_s:.0f}"
          f" s, {sec * 1e3:.0f} ms/step, {4096 / sec:,.0f} target tokens/s, "
          f"{flops / 1e9:.1f} GFLOP/step, {flops / sec / 1e9:.1f} GFLOP/s, "
          f"MFU {mfu:.1%}{target}")
    results[name] = {"ms_per_step": sec * 1e3, "tokens_per_s": 4096 / sec,
                     "gflop_per_step": flops / 1e9, "mfu": mfu}
    if name == "multimodel_base":
      results[name].update(mfu_target=MFU_TARGET,
                           mfu_met=bool(mfu >= MFU_TARGET))


def bench_moe(results):
  d, h, tokens = 256, 512, 4096
  x = tf.random.normal([64, 64, d])
  layers = [(f"moe E={e:3d} k=2", moe.MixtureOfExperts(d, h, e, 2))
            for e in (8, 32, 128)]
  layers.append(("dense ffn 2*h", common.FeedForward(d, 2 * h, 0.0)))
  for name, layer in layers:
    layer(x[:1])

    @tf.function
    def run():
      with tf.GradientTape() as tape:
        out = layer(x, training=True)
        y = out[0] if isinstance(out, tuple) else out
        loss = tf.reduce_sum(y * y)
        if isinstance(out, tuple):
          loss += out[1]["importance"] + out[1]["load"]
      return tape.gradient(loss, layer.trainable_variables)[0]

    sec = _timed(run, 5)
    print(f"{name}: {sec * 1e3:.1f} ms forward+backward for {tokens} tokens")
    results[name] = {"ms": sec * 1e3}


def bench_decode(args, results):
  hp = registry.hparams(args.decode_hparams)
  model = body.MultiModel(hp, [_spec()])
  batch, beam = args.decode_batch, args.beam
  inputs = tf.constant(np.random.RandomState(0).randint(
      1, VOCAB, (batch, 32)), tf.int32)
  model({"inputs": inputs, "targets": inputs}, problem="p")
  state, _ = model.encode(inputs, "p")
  state_k = search.tile_beams(state, beam)

  def make(cls):  # the decoder's beam search, with one class's cache
    @tf.function
    def run(length):
      cache = cls.init_cache(model, state, "p", batch * beam, length)
      step = lambda ids, i, c: cls.decode_step(model, state_k, ids, i, c,
                                               "p")
      return search.beam_search(step, cache, batch, beam, length)[0]
    return run

  modes = {"incremental": make(body.MultiModel),
           "full recompute": make(model_lib.T2TModel)}
  for run in modes.values():
    run(tf.constant(2))  # trace once: the length is a tensor
  shape = f"{args.decode_hparams} batch {batch} beam {beam}"
  for length in args.decode_lengths:
    rates, outputs = {}, {}
    for mode, run in modes.items():
      start = time.perf_counter()
      outputs[mode] = run(tf.constant(length)).numpy()
      rates[mode] = batch * length / (time.perf_counter() - start)
    ratio = rates["incremental"] / rates["full recompute"]
    same = bool(np.array_equal(*outputs.values()))
    target = ""
    if length == 256:
      target = (f"  (target >= {DECODE_TARGET:.0f}x: "
                f"{_verdict(ratio, DECODE_TARGET)})")
    print(f"decode {shape}, {length} tokens: " +
          ", ".join(f"{m} {r:,.0f} tokens/s" for m, r in rates.items()) +
          f": x{ratio:.1f}{target}, same beams: {same}")
    results[f"{length}_tokens"] = {
        **{f"{m.replace(' ', '_')}_tokens_per_s": r for m, r in rates.items()},
        "speedup": ratio, "same_beams": same}
    if length == 256:
      results["256_tokens"].update(target=DECODE_TARGET,
                                   met=bool(ratio >= DECODE_TARGET))
  results["shape"] = shape


# --- parts: profile a train step --------------------------------------------
_MATMULS = re.compile(r"MatMul|Einsum")


def _part(name, op):
  """The part of the MultiModel an op (by its name scope) belongs to."""
  if "/sepconv" in name:  # the depthwise conv, its padding and gradient
    return "conv: pointwise" if "/pointwise" in name else "conv: depthwise"
  if re.search(r"/step_\d", name):
    return "conv: relu, layer norm"
  if re.search(r"_experts(_\d+)?/", name):
    expert = "/moe" in name and "/gating" not in name and _MATMULS.search(op)
    return "moe: experts" if expert else "moe: gating, dispatch"
  if re.search(r"/(self|source)(_ln)?(_\d+)?/|encoder_attention", name):
    return "attention"
  if "adam" in name.lower() or op.startswith(("ResourceApply", "Assign")):
    return "optimizer"
  inner = re.sub(r"^(gradient_tape/)?multi_model(_\d+)*/", "", name)
  if inner != name and not re.match(r"(encoder|decoder|mixer)_", inner):
    return "modality nets"  # embedding, task token, shift, top
  if re.search(r"softmax_cross_entropy|one_hot", name):
    return "modality nets"  # the top's loss
  return "rest"


def _op_times(logdir):
  """{(op name, op type): summed microseconds} from a profiler trace."""
  from tensorflow.tsl.profiler.protobuf import xplane_pb2  # pylint: disable=g-import-not-at-top
  path = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"),
                          recursive=True))[-1]
  space = xplane_pb2.XSpace()
  with open(path, "rb") as f:
    space.ParseFromString(f.read())
  times = collections.Counter()
  for plane in space.planes:
    for line in plane.lines:
      if not line.name.startswith("tf_Compute"):
        continue  # ops run on the executor's threads
      for ev in line.events:
        full = plane.event_metadata[ev.metadata_id].name
        if re.match(r"^[\w/.\-]+:\w+$", full):
          times[tuple(full.rsplit(":", 1))] += ev.duration_ps / 1e6
  return times


def bench_parts(args, peak, results):
  name, steps = args.parts_hparams, 2
  hp, step, _ = _train_step(name)
  sec = _timed(step, 2)
  logdir = tempfile.mkdtemp(prefix="bench_parts_")
  tf.profiler.experimental.start(logdir, tf.profiler.experimental
                                 .ProfilerOptions(host_tracer_level=3))
  for _ in range(steps):
    step().numpy()
  tf.profiler.experimental.stop()
  by_part = collections.Counter()
  for (op_name, op), us in _op_times(logdir).items():
    by_part[_part(op_name, op)] += us / steps
  total = sum(by_part.values())
  flops = {k: 3 * v for k, v in part_flops(hp, 64, 64, 64).items()}
  print(f"parts of a {name} train step (64 x 64 tokens): {sec * 1e3:.0f} ms"
        f" wall, {total / 1e3:.0f} ms of op time summed over both threads; "
        f"per part: share of op time, op ms, FLOPs and FLOP/s over op time")
  results["wall_ms"], results["op_ms"] = sec * 1e3, total / 1e3
  for part, us in sorted(by_part.items(), key=lambda kv: -kv[1]):
    f, sec_part = flops.get(part, 0), us / 1e6
    rate = (f"{f / 1e9:6.1f} GFLOP, {f / sec_part / 1e9:5.1f} GFLOP/s "
            f"({f / sec_part / peak:4.0%} of matmul)" if f else "no FLOPs")
    print(f"  {part:24s} {us / total:6.1%} {us / 1e3:7.0f} ms  {rate}")
    results[part] = {"share": us / total, "op_ms": us / 1e3,
                     "gflop": f / 1e9,
                     "gflop_per_s": f / sec_part / 1e9 if f else 0.0}


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--sections", default="train,moe,decode,parts")
  bench_common.add_json_flag(parser, "bench_multimodel")
  parser.add_argument("--decode_hparams", default="multimodel_base")
  parser.add_argument("--decode_batch", type=int, default=2)
  parser.add_argument("--beam", type=int, default=4)
  parser.add_argument("--decode_lengths", default="16,64,256",
                      type=lambda s: [int(x) for x in s.split(",")])
  parser.add_argument("--parts_hparams", default="multimodel_base")
  args = parser.parse_args()
  sections = args.sections.split(",")
  tf.random.set_seed(0)
  peak = matmul_flops_per_s()
  print(f"dense fp32 matmul 1024^3: {peak / 1e9:.1f} GFLOP/s "
        f"({os.cpu_count()} CPUs visible, shared)")
  results = {"matmul_gflop_per_s": peak / 1e9, "cpus": os.cpu_count()}
  start = time.perf_counter()
  for section, fn in (("train", lambda r: bench_train(peak, r)),
                      ("moe", bench_moe),
                      ("decode", lambda r: bench_decode(args, r)),
                      ("parts", lambda r: bench_parts(args, peak, r))):
    if section in sections:
      results[section] = {}
      fn(results[section])
  print(f"total {time.perf_counter() - start:.0f} s")
  bench_common.write_json(args.json, results)


if __name__ == "__main__":
  main()
