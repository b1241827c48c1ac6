"""Decoding (the library behind t2tlite-decoder).

The model is loaded once from an output_dir (its run config says which
model, hparams and problems); lines are decoded in length-sorted batches and
written back in input order, exactly one output per input line.
"""
import logging
import sys

import numpy as np
import tensorflow as tf

from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite import run_config
from t2tlite import search
from t2tlite.hparams_lib import HParams

log = logging.getLogger("t2tlite")


class DecodeError(ValueError):
  """The output_dir or the request cannot be decoded."""


def decode_hparams(text=""):
  """Defaults for decoding, overridden by --decode_hparams."""
  # constrained: decode with the problem's decode_constraint, if it has
  # one (parsing: well-formed trees with the input's leaves); tree_words:
  # trees decoded from a file carry the line's words as their leaves.
  return HParams(beam_size=4, alpha=0.6, batch_size=32, max_length=0,
                 extra_length=50, top_k=1, constrained=True,
                 tree_words=True).override(text)


class Decoder:
  """A trained model ready to decode any of its problems by name."""

  def __init__(self, output_dir, data_dir=None, decode_hparams_text="",
               checkpoint=None, model=None):
    cfg = run_config.read(output_dir)
    if cfg is None:
      raise DecodeError(f"{output_dir} holds no trained model (no "
                        f"{run_config.CONFIG_NAME}); run t2tlite-trainer first")
    self.cfg = cfg
    self.output_dir = output_dir
    self.data_dir = data_dir or cfg["data_dir"]
    self.hparams = cfg["hparams"]
    self.dhp = decode_hparams(decode_hparams_text)
    self.problems = {n: registry.problem(n) for n in cfg["problems"]}
    self.checkpoint_path = None  # a live model's: none
    if model is not None:
      self.model = model
    else:
      self.model = registry.model(cfg["model"])(self.hparams, cfg["specs"])
      # Decoding runs in float32 even after bfloat16 training: the
      # checkpoint's variables are float32 either way, and float32 keeps
      # beam scores exact. (A live model passed in keeps its own policy.)
      model_lib.set_precision(self.model, "")
      ckpt = checkpoint or tf.train.latest_checkpoint(output_dir)
      if ckpt is None:
        raise DecodeError(f"no checkpoint in {output_dir}")
      self.model.build_from_specs()
      try:
        model_lib.restore_weights(self.model, ckpt)
      except model_lib.RestoreError as e:
        raise DecodeError(str(e)) from e
      self.checkpoint_path = ckpt
      log.info("loaded %s", ckpt)
    self._fns = {}

  def problem(self, name):
    if name not in self.problems:
      raise DecodeError(f"{self.output_dir} was trained on "
                        f"{', '.join(self.problems)}, not on '{name}'")
    return self.problems[name]

  @property
  def vocab_dir(self):
    return self.output_dir

  # --- the compiled decode functions ----------------------------------------
  def _decode_fn(self, name, example_inputs, constraint=None):
    """The compiled decode function of a problem.

    Sequence targets: fn(inputs, max_len) -> ids [B, 1 or K, max_len]; with
    a `constraint` (a problem's decode_constraint(), e.g. a
    tree_constraint.TreeDecoding) fn(inputs, max_len, limits [B],
    features) instead, features as constraint.prepare() gives them and
    limits each row's own decode limit, which the constraint respects.
    """
    key = name if constraint is None else (name, "constrained")
    if key in self._fns:
      return self._fns[key]
    model, dhp = self.model, self.dhp
    target_mod = model.target_modality(name)
    sig = tf.TensorSpec([None] * (example_inputs.ndim + 1),
                        tf.as_dtype(example_inputs.dtype))

    if not target_mod.targets_are_sequence:
      @tf.function(input_signature=[sig])
      def classify(inputs):
        batch = tf.shape(inputs)[0]
        feats = {"inputs": inputs, "targets": tf.zeros([batch, 1], tf.int64)}
        logits, _ = model(feats, problem=name, training=False)
        return tf.nn.softmax(tf.cast(logits[:, 0, :], tf.float32))
      self._fns[name] = classify
      return classify

    beam = dhp.beam_size

    def run(inputs, max_len, make_constraint):
      batch = tf.shape(inputs)[0]
      state, _ = model.encode(inputs, name, training=False)
      if beam <= 1:
        cache = model.init_cache(state, name, batch, max_len)
        step = lambda ids, i, c: model.decode_step(state, ids, i, c, name)
        return search.greedy_search(
            step, cache, batch, max_len,
            constraint=make_constraint(1))[:, None, :]
      state_k = search.tile_beams(state, beam)
      cache = model.init_cache(state, name, batch * beam, max_len)
      step = lambda ids, i, c: model.decode_step(state_k, ids, i, c, name)
      seqs, _ = search.beam_search(step, cache, batch, beam, max_len,
                                   dhp.alpha,
                                   constraint=make_constraint(beam))
      return seqs

    if constraint is None:
      @tf.function(input_signature=[sig, tf.TensorSpec([], tf.int32)])
      def generate(inputs, max_len):
        return run(inputs, max_len, lambda k: None)
    else:
      @tf.function(input_signature=[
          sig, tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.int32),
          tuple(constraint.feature_signature)])
      def generate(inputs, max_len, limits, features):
        return run(inputs, max_len,
                   lambda k: constraint.constraint(features, limits, k))

    self._fns[key] = generate
    return generate

  def _max_len(self, problem, inputs_len):
    if self.dhp.max_length:
      return self.dhp.max_length
    return int(max(1, problem.decode_length(inputs_len,
                                            self.dhp.extra_length)))

  def decode_arrays(self, name, arrays):
    """Decodes a list of model inputs (numpy); returns model outputs."""
    problem = self.problem(name)
    sequence = self.model.target_modality(name).targets_are_sequence
    constraint = None
    if (sequence and self.dhp.get("constrained", True) and
        hasattr(problem, "decode_constraint")):
      key = ("decode_constraint", name)
      if key not in self._fns:
        self._fns[key] = problem.decode_constraint(self.vocab_dir)
      constraint = self._fns[key]
    outputs = [None] * len(arrays)
    order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[0])
    bs = max(1, self.dhp.batch_size)
    for start in range(0, len(order), bs):
      idx = order[start:start + bs]
      batch = _pad([arrays[i] for i in idx])
      fn = self._decode_fn(name, arrays[idx[0]], constraint)
      if constraint is not None:
        # Each row's limit is at least what its shortest allowed output
        # needs, so a constrained output always ends (with EOS) in it.
        features, mins = constraint.prepare([arrays[i] for i in idx])
        own = [max(self._max_len(problem, arrays[i].shape[0]), int(m))
               for i, m in zip(idx, mins)]
        out = fn(batch, tf.constant(max(own), tf.int32),
                 tf.constant(own, tf.int32),
                 tuple(tf.constant(f) for f in features)).numpy()
        for j, i in enumerate(idx):
          outputs[i] = _strip(out[j, 0][:own[j]])
      elif sequence:
        out = fn(batch, tf.constant(self._max_len(problem, batch.shape[1]),
                                    tf.int32)).numpy()
        for j, i in enumerate(idx):
          # The batch decodes up to its longest input's limit; each output
          # keeps its own input's limit, so an output that never ends does
          # not depend on what it was batched with.
          own = self._max_len(problem, arrays[i].shape[0])
          outputs[i] = _strip(out[j, 0][:own])
      else:
        probs = fn(batch).numpy()
        for j, i in enumerate(idx):
          outputs[i] = probs[j]
    return outputs

  def decode_lines(self, name, lines, report=None):
    """One output line per input line, in order; '' for empty/bad lines."""
    report = report or (lambda msg: print(msg, file=sys.stderr))
    problem = self.problem(name)
    arrays, where = [], []
    for n, line in enumerate(lines):
      line = line.rstrip("\n")
      if not line.strip():
        continue
      try:
        arr, warning = problem.decode_input(line, self.vocab_dir,
                                            self.hparams)
      except ValueError as e:
        report(f"line {n + 1}: {e}")
        continue
      if warning:
        report(f"line {n + 1}: {warning}")
      arrays.append(arr)
      where.append(n)
    results = [""] * len(lines)
    dhp = self.dhp.values()
    # A problem may format an output with its input line (parsing: the
    # line's words as the tree's leaves).
    with_input = getattr(problem, "format_output_for_input", None)
    for n, out in zip(where, self.decode_arrays(name, arrays)):
      if with_input is not None:
        results[n] = with_input(out, lines[n].rstrip("\n"), self.vocab_dir,
                                dhp)
      else:
        results[n] = problem.format_output(out, self.vocab_dir, dhp)
    return results

  def evaluate(self, name, split="test", limit=None):
    """Decodes a split and scores it with the problem's own metrics."""
    problem = self.problem(name)
    inputs, refs = [], []
    for arr, ref in problem.eval_pairs(self.data_dir, split, self.hparams,
                                       limit):
      inputs.append(arr)
      refs.append(ref)
    outs = self.decode_arrays(name, inputs)
    dhp = dict(self.dhp.values(), top_k=1)
    hyps = [problem.format_output(o, self.vocab_dir, dhp) for o in outs]
    return problem.score(hyps, refs), hyps, refs


def _pad(arrays):
  shape = [len(arrays)] + [max(a.shape[d] for a in arrays)
                           for d in range(arrays[0].ndim)]
  out = np.zeros(shape, arrays[0].dtype)
  for i, a in enumerate(arrays):
    out[(i,) + tuple(slice(0, s) for s in a.shape)] = a
  return out


def _strip(ids):
  ids = [int(i) for i in ids]
  if 1 in ids:
    ids = ids[:ids.index(1)]
  return np.array([i for i in ids if i != 0], np.int64)


def evaluate(output_dir, problem, split="test", data_dir=None,
             decode_hparams_text="", limit=None):
  """Convenience: load once, decode a split, return (metrics, hyps, refs)."""
  return Decoder(output_dir, data_dir, decode_hparams_text).evaluate(
      problem, split, limit)
