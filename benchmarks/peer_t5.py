"""The peer for bench_peer.py, and how it is compared with ours.

The peer: Hugging Face T5 on PyTorch, timed on CPU, a randomly initialised
T5ForConditionalGeneration of the same shape as a t2tlite Transformer
hparams set (nothing is downloaded). torch and transformers are optional:
`available()` says whether both are installed. Each peer measurement runs
in a process of its own (`measure()`, through bench_proc), so neither
library is loaded into the other's process.
The comparison: FLOPs of a step from the shared shapes, and each ratio
ours / reference beside its target.
"""
import importlib.util
import os
import time
import types

import numpy as np

import bench_proc

SKIP_LINE = "peer skipped: pip install -e .[bench] (torch, transformers)"
TARGET = 1.1        # ours / peer, training and generation
BF16_TARGET = 1.3   # ours bf16 / ours fp32 (the mixed-precision target)


# The hparams a T5 of the same shape, and its training step, read.
HP_FIELDS = ("hidden_size", "filter_size", "num_heads", "num_encoder_layers",
             "num_decoder_layers", "dropout", "adam_beta1", "adam_beta2",
             "adam_epsilon", "label_smoothing", "clip_grad_norm")


def available():
  """Whether torch and transformers are installed (neither is imported)."""
  return all(importlib.util.find_spec(m) is not None
             for m in ("torch", "transformers"))


def measure(kind, hp, **kwargs):
  """One peer measurement ("train", "generate" or "versions") in a fresh
  process (bench_proc); its result dict, with that process's peak RSS."""
  fields = {k: getattr(hp, k) for k in HP_FIELDS} if hp else None
  return bench_proc.run(os.path.abspath(__file__), kind, hp=fields,
                        **kwargs)


def _handler(fn):
  def handle(hp=None, **kwargs):
    libs = load()
    if libs is None:
      raise SystemExit(SKIP_LINE)
    shape = (types.SimpleNamespace(**hp),) if hp else ()
    return fn(libs, *shape, **kwargs)
  return handle


def load():
  """(torch, transformers) or None when either is not installed."""
  try:
    import torch  # pylint: disable=import-outside-toplevel
    import transformers  # pylint: disable=import-outside-toplevel
  except ImportError:
    return None
  # Every core, as TensorFlow uses by default; same footing for both.
  torch.set_num_threads(os.cpu_count())
  return torch, transformers


def versions(libs):
  torch, transformers = libs
  return {"torch": torch.__version__, "transformers": transformers.__version__,
          "torch_threads": torch.get_num_threads()}


def make_model(libs, hp, vocab, seed=0):
  """A T5 with hp's widths and depths; dropout as hp's."""
  torch, transformers = libs
  torch.manual_seed(seed)
  config = transformers.T5Config(
      vocab_size=vocab, d_model=hp.hidden_size, d_ff=hp.filter_size,
      d_kv=hp.hidden_size // hp.num_heads, num_heads=hp.num_heads,
      num_layers=hp.num_encoder_layers,
      num_decoder_layers=hp.num_decoder_layers, dropout_rate=hp.dropout,
      feed_forward_proj="relu", pad_token_id=0, eos_token_id=1,
      tie_word_embeddings=True)
  # The decoder starts from the pad id, as released T5 checkpoints do.
  config.decoder_start_token_id = 0
  return transformers.T5ForConditionalGeneration(config)


def _random_ids(torch, rng, batch, length, vocab):
  # Ids from 2 up: no padding (0) and no EOS (1) in the data.
  return torch.from_numpy(rng.randint(2, vocab, (batch, length)).astype(
      np.int64))


def train_rate(libs, hp, vocab, batch, src_len, tgt_len, steps, warmup,
               bf16=False):
  """Seconds per training step (forward, backward, clipping, AdamW).

  The loss is cross-entropy with hp's label smoothing and the gradients are
  clipped to hp's norm, as t2tlite's trainer does, so both do the same work.
  bf16: forward and loss under torch.autocast (weights and AdamW in fp32).
  """
  torch, _ = libs
  model = make_model(libs, hp, vocab)
  model.train()
  rng = np.random.RandomState(0)
  inputs = _random_ids(torch, rng, batch, src_len, vocab)
  labels = _random_ids(torch, rng, batch, tgt_len, vocab)
  mask = torch.ones_like(inputs)
  dec_in = model._shift_right(labels)  # pylint: disable=protected-access
  params = [p for p in model.parameters() if p.requires_grad]
  opt = torch.optim.AdamW(params, lr=1e-4, betas=(hp.adam_beta1,
                                                  hp.adam_beta2),
                          eps=hp.adam_epsilon)
  loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=hp.label_smoothing)

  def step():
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
      logits = model(input_ids=inputs, attention_mask=mask,
                     decoder_input_ids=dec_in, use_cache=False).logits
      loss = loss_fn(logits.float().reshape(-1, vocab), labels.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if hp.clip_grad_norm > 0:
      torch.nn.utils.clip_grad_norm_(params, hp.clip_grad_norm)
    opt.step()
    return float(loss.detach())

  start = time.perf_counter()
  for _ in range(warmup):
    loss = step()
  warm_s = time.perf_counter() - start
  start = time.perf_counter()
  for _ in range(steps):
    loss = step()
  sec = (time.perf_counter() - start) / steps
  n_params = sum(p.numel() for p in params)
  return {"sec_per_step": sec, "warmup_s": warm_s, "loss": loss,
          "params": n_params}


def generate_rate(libs, hp, vocab, batch, src_len, new_tokens, beam, runs):
  """Target tokens/s of model.generate with its KV cache, exactly
  `new_tokens` per sequence (EOS is suppressed until then)."""
  torch, _ = libs
  model = make_model(libs, hp, vocab)
  model.eval()
  rng = np.random.RandomState(1)
  inputs = _random_ids(torch, rng, batch, src_len, vocab)
  mask = torch.ones_like(inputs)

  def run():
    with torch.inference_mode():
      return model.generate(
          input_ids=inputs, attention_mask=mask, do_sample=False,
          num_beams=beam, num_return_sequences=1, use_cache=True,
          min_new_tokens=new_tokens, max_new_tokens=new_tokens)

  out = run()  # warm up
  start = time.perf_counter()
  for _ in range(runs):
    out = run()
  sec = (time.perf_counter() - start) / runs
  # The output starts with the decoder's start token; count what follows,
  # up to and including a first EOS (there should be none before the end).
  generated = sum(generated_length(row[1:], 1)
                  for row in out.numpy().tolist())
  return {"sec_per_batch": sec, "generated_tokens": generated,
          "tokens_per_s": generated / sec}


def generated_length(ids, eos):
  """Tokens a search really produced: up to and including the first EOS."""
  ids = list(ids)
  return ids.index(eos) + 1 if eos in ids else len(ids)


def forward_flops(hp, b, s, t, vocab):
  """Multiply-adds x 2 of one forward pass of the encoder-decoder.

  Per layer: q, k, v, o projections (k, v of source attention over the s
  source positions), scores and mixing (full, not halved for the causal
  mask), the two FFN matmuls; then the output projection. The same count
  fits T5 (its relative position bias and layer norms are not matmuls).
  """
  d, f = hp.hidden_size, hp.filter_size

  def attention(q_len, kv_len):
    return (2 * b * d * d * (2 * q_len + 2 * kv_len) +
            4 * b * q_len * kv_len * d)

  def ffn(n):
    return 4 * b * n * d * f

  enc = hp.num_encoder_layers * (attention(s, s) + ffn(s))
  dec = hp.num_decoder_layers * (attention(t, t) + attention(t, s) + ffn(t))
  return enc + dec + 2 * b * t * d * vocab


# --- the comparison --------------------------------------------------------
# (row, reference row, target ratio; None: shown, no target).
COMPARISONS = (("ours fp32", "peer fp32", TARGET),
               ("ours bf16", "peer bf16", TARGET),
               ("ours bf16", "ours fp32", BF16_TARGET),
               # jit_compile is worth switching on only where this is > 1x.
               ("ours fp32 xla", "ours fp32", None),
               ("ours fp32 xla", "peer fp32", None))


def verdict(ratio, target):
  if ratio is None:
    return "no peer"
  return f"{ratio:.2f}x {'met' if ratio >= target else 'MISSED'}"


def ratio(a, b):
  return a / b if a and b else None


def train_lines(runs):
  """One line per run, each ours run with its ratios and targets."""
  ratios = {}
  for row, ref, target in COMPARISONS:
    if row in runs and (ref in runs or ref.startswith("peer")):
      ratios[f"{row} / {ref}"] = (ratio(runs[row]["tokens_per_s"], runs.get(
          ref, {}).get("tokens_per_s")), target)
  for name, r in runs.items():
    notes = []
    for key, (value, target) in ratios.items():
      ref = key.split(" / ")[1]
      if key.startswith(name + " /"):
        if target:
          notes.append(f"target >= {target}x {ref}: {verdict(value, target)}")
        else:
          notes.append(f"{value:.2f}x {ref}" if value else f"no {ref}")
    note = f"  ({'; '.join(notes)})" if notes else ""
    print(f"  {name:<13} {r['tokens_per_s']:>8,.0f} tok/s "
          f"{r['sec_per_step'] * 1e3:7,.0f} ms/step {r['gflop_per_s']:6.1f} "
          f"GFLOP/s  MFU {r['mfu_vs_fp32_matmul']:5.1%}{note}")
  return {k: {"ratio": v[0], "target": v[1]} for k, v in ratios.items()}


if __name__ == "__main__":
  bench_proc.serve({"train": _handler(train_rate),
                    "generate": _handler(generate_rate),
                    "versions": _handler(versions)})
