"""MultiModel speed on this machine: prints figures, asserts nothing.

  python benchmarks/bench_multimodel.py [--sections train,moe,decode]

train:  train-step throughput (target tokens/s) of multimodel_tiny and
        multimodel_base on translation-shaped batches (64 x 64 tokens), the
        model FLOPs of a step counted from the real shapes (forward x 3), and
        the achieved FLOP/s as a fraction of a dense fp32 matmul's FLOP/s
        measured in the same run (MFU).
moe:    one MoE layer (forward + backward, k = 2) with 8, 32 and 128 experts
        on 4,096 tokens, and a dense FFN of the same active size.
decode: tokens/s of incremental decoding (the caches) against the base
        class's full recomputation, at 16, 64 and 256 output tokens.
On a shared CPU the figures are noisy: compare within one run.
"""
import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from t2tlite import model as model_lib  # noqa: E402
from t2tlite import registry  # noqa: E402
from t2tlite.hparams import multimodel as _hparams  # noqa: E402,F401
from t2tlite.layers import common  # noqa: E402
from t2tlite.layers import convolution  # noqa: E402
from t2tlite.layers import moe  # noqa: E402
from t2tlite.modalities import text as _text  # noqa: E402,F401
from t2tlite.models.multimodel import blocks  # noqa: E402
from t2tlite.models.multimodel import body  # noqa: E402
from t2tlite.problem import ProblemSpec  # noqa: E402

VOCAB = 8192


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


# --- FLOP counts (multiply-add = 2 FLOPs), forward pass ---------------------
def _conv_block_flops(b, t, d):
  return sum(convolution.conv_step_flops(b, t, d, d, k)
             for k, _ in blocks.CONV_BLOCK_STEPS)


def _attention_flops(b, t, s, d):
  """Projections q, o over t and k, v over s, then scores and mixing."""
  return 2 * b * d * d * (2 * t + 2 * s) + 4 * b * t * s * d


def _ffn_flops(hp, tokens):
  d = hp.hidden_size
  if hp.use_moe:
    return moe.moe_flops(tokens, d, hp.moe_hidden_size, hp.moe_num_experts,
                         hp.moe_k)
  return 2 * tokens * 2 * d * hp.moe_k * hp.moe_hidden_size


def forward_flops(hp, b, s, t, vocab=VOCAB):
  d = hp.hidden_size
  enc = hp.num_encoder_blocks * _conv_block_flops(b, s, d)
  enc += _ffn_flops(hp, b * s)
  if hp.encoder_self_attention:
    enc += (hp.num_encoder_blocks // 2) * _attention_flops(b, s, s, d)
  attn_block = (hp.attention_conv_blocks * _conv_block_flops(b, t, d) +
                _attention_flops(b, t, t, d) + _attention_flops(b, t, s, d))
  mixer = attn_block + hp.mixer_conv_blocks * _conv_block_flops(b, t, d)
  if hp.decoder_attention:
    dec = hp.num_decoder_blocks * attn_block
  else:
    dec = hp.num_decoder_blocks * hp.attention_conv_blocks * (
        _conv_block_flops(b, t, d))
  dec += _ffn_flops(hp, b * t)
  top = 2 * b * t * d * vocab
  return enc + mixer + dec + top


def matmul_flops_per_s(n=1024, runs=20):
  a = tf.random.normal([n, n])
  c = tf.random.normal([n, n])

  @tf.function
  def mm():
    x = a
    for _ in range(4):
      x = tf.matmul(x, c) * 1e-3
    return x

  return 4 * 2 * n ** 3 / _timed(mm, runs)


# --- sections --------------------------------------------------------------
def bench_train(peak):
  rng = np.random.RandomState(0)
  feats = {"inputs": tf.constant(rng.randint(1, VOCAB, (64, 64)), tf.int32),
           "targets": tf.constant(rng.randint(1, VOCAB, (64, 64)), tf.int32)}
  for name, runs in (("multimodel_tiny", 10), ("multimodel_base", 3)):
    hp = registry.hparams(name)
    model = body.MultiModel(hp, [_spec()])
    mod = model.target_modality("p")
    model(feats, problem="p")
    opt = keras.optimizers.Adam(1e-4)
    opt.build(model.trainable_variables)

    @tf.function
    def step():
      with tf.GradientTape() as tape:
        logits, aux = model(feats, problem="p", training=True)
        total, count = mod.loss(logits, feats["targets"])
        loss = total / count + tf.add_n(
            [v for k, v in aux.items() if not k.startswith(body.STAT_PREFIX)])
      grads = tape.gradient(loss, model.trainable_variables)
      opt.apply_gradients(zip(grads, model.trainable_variables))
      return loss

    start = time.perf_counter()
    step()
    compile_s = time.perf_counter() - start
    sec = _timed(step, runs)
    flops = 3 * forward_flops(hp, 64, 64, 64)
    params = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    print(f"train {name}: {params / 1e6:.2f}M params, compile {compile_s:.0f}"
          f" s, {sec * 1e3:.0f} ms/step, {4096 / sec:,.0f} target tokens/s, "
          f"{flops / 1e9:.1f} GFLOP/step, {flops / sec / 1e9:.1f} GFLOP/s, "
          f"MFU {flops / sec / peak:.1%}")


def bench_moe():
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


def bench_decode():
  hp = registry.hparams("multimodel_tiny")
  model = body.MultiModel(hp, [_spec()])
  rng = np.random.RandomState(0)
  batch = 8
  inputs = tf.constant(rng.randint(1, VOCAB, (batch, 32)), tf.int32)
  model({"inputs": inputs, "targets": inputs}, problem="p")
  state, _ = model.encode(inputs, "p")
  base = model_lib.T2TModel

  def make(init_fn, step_fn):
    @tf.function
    def run(length):
      cache = init_fn(model, state, "p", batch, length)

      def loop(i, prev, cache):
        logits, cache = step_fn(model, state, prev, i, cache, "p")
        return i + 1, tf.argmax(logits, -1, output_type=tf.int32), cache

      _, prev, _ = tf.while_loop(lambda i, *_: i < length, loop,
                                 (tf.constant(0), tf.zeros([batch], tf.int32),
                                  cache))
      return prev
    return run

  modes = {"incremental": make(body.MultiModel.init_cache,
                               body.MultiModel.decode_step),
           "full recompute": make(base.init_cache, base.decode_step)}
  for length in (16, 64, 256):
    rates = {}
    for mode, run in modes.items():
      sec = _timed(lambda: run(tf.constant(length)), 2)
      rates[mode] = batch * length / sec
    print(f"decode multimodel_tiny batch {batch}, {length} tokens: " +
          ", ".join(f"{m} {r:,.0f} tokens/s" for m, r in rates.items()) +
          f" (x{rates['incremental'] / rates['full recompute']:.1f})")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--sections", default="train,moe,decode")
  sections = parser.parse_args().sections.split(",")
  tf.random.set_seed(0)
  peak = matmul_flops_per_s()
  print(f"dense fp32 matmul 1024^3: {peak / 1e9:.1f} GFLOP/s "
        f"({os.cpu_count()} CPUs visible, shared)")
  start = time.perf_counter()
  if "train" in sections:
    bench_train(peak)
  if "moe" in sections:
    bench_moe()
  if "decode" in sections:
    bench_decode()
  print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
  main()
