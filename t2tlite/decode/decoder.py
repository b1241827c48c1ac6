"""Decoding (the library behind t2tlite-decoder).

The model is loaded once from an output_dir (its run config says which
model, hparams and problems); lines are decoded in length-sorted batches and
written back in input order, exactly one output per input line.
"""
import logging
import os
import sys

import numpy as np
import tensorflow as tf

from t2tlite import configs
from t2tlite.data import codecs as codecs_lib
from t2tlite.data import pipeline
from t2tlite import metrics
from t2tlite.train import checkpoint_avg
from t2tlite import errors
from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.train import run_config
from t2tlite.decode import ctc_rescore
from t2tlite.decode import search
from t2tlite.layers import ctc
from t2tlite.decode import tree_constraint
from t2tlite.hparams_lib import HParams

log = logging.getLogger("t2tlite")


class DecodeError(errors.UserError, ValueError):
  """The output_dir or the request cannot be decoded."""


# An n-best line (return_beams=true): hypotheses and their scores, best
# first, all joined by this: "hyp 1 ||| -0.1234 ||| hyp 2 ||| -0.5678".
NBEST_SEPARATOR = " ||| "


def decode_hparams(text=""):
  """Defaults for decoding, overridden by --decode_hparams."""
  # constrained: decode under the target codec's constraint, if it has
  # one (parsing: well-formed trees with the input's leaves); tree_words:
  # trees decoded from a file carry the line's words as their leaves.
  # return_beams: every hypothesis of the search with its score (see
  # NBEST_SEPARATOR). ctc_weight: for a model with a CTC head (speech),
  # the attention search's hypotheses and the CTC head's ctc_beam best
  # are rescored by ctc_weight * log p_CTC + (1 - ctc_weight) * log p_att
  # (decode/ctc_rescore.py); 0 turns it off. sampling: draw outputs from the model's distribution
  # at `temperature`, over its sampling_top_k most likely tokens (0: all),
  # num_samples per input, best scored first; `seed` makes the draws
  # reproducible (each input's draws depend on the seed and the input
  # only, not on what it is batched with).
  hp = HParams(beam_size=4, alpha=0.6, batch_size=32, max_length=0,
               extra_length=50, top_k=1, constrained=True,
               tree_words=True, return_beams=False, sampling=False,
               temperature=1.0, sampling_top_k=0, num_samples=1,
               seed=0, ctc_weight=0.5, ctc_beam=4).override(text)
  if hp.num_samples < 1:
    raise DecodeError(f"num_samples={hp.num_samples}: draw at least one")
  if hp.sampling_top_k < 0:
    raise DecodeError(f"sampling_top_k={hp.sampling_top_k}: use 0 (every "
                      "token) or a positive number")
  if not 0 <= hp.ctc_weight <= 1:
    raise DecodeError(f"ctc_weight={hp.ctc_weight}: use a weight in [0, 1]")
  if hp.ctc_beam < 0:
    raise DecodeError(f"ctc_beam={hp.ctc_beam}: use 0 (the attention "
                      "search's hypotheses only) or more")
  if hp.temperature < 0:
    raise DecodeError(f"temperature={hp.temperature}: use 0 (greedy) or "
                      "more")
  return hp


def split_nbest(line):
  """An n-best line -> [(hypothesis, score), ...] (see NBEST_SEPARATOR)."""
  if not line:
    return []
  parts = line.split(NBEST_SEPARATOR)
  return [(parts[j], float(parts[j + 1]))
          for j in range(0, len(parts) - 1, 2)]


class Decoder:
  """A trained model ready to decode any of its problems by name."""

  def __init__(self, output_dir, data_dir=None, decode_hparams_text="",
               checkpoint=None, model=None, average=None):
    """average: decode with the mean of the model variables of the run's
    last `average` checkpoints (ending at `checkpoint` if given; see
    t2tlite/train/checkpoint_avg.py) instead of one checkpoint."""
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
    self.checkpoint_paths = []   # the checkpoints averaged, or the one
    if model is not None:
      self.model = model
    else:
      self.model = registry.model(cfg["model"])(self.hparams, cfg["specs"])
      # Decoding runs in float32 even after bfloat16 training: the
      # checkpoint's variables are float32 either way, and float32 keeps
      # beam scores exact. (A live model passed in keeps its own policy.)
      model_lib.set_precision(self.model, "")
      if average:
        try:
          paths = checkpoint_avg.last_checkpoints(output_dir, average,
                                                  checkpoint)
          self.model.build_from_specs()
          checkpoint_avg.restore_average(self.model, paths)
        except checkpoint_avg.AverageError as e:
          raise DecodeError(str(e)) from e
        self.checkpoint_path, self.checkpoint_paths = paths[-1], paths
        log.info("loaded the average of %d checkpoint%s: %s", len(paths),
                 "" if len(paths) == 1 else "s",
                 ", ".join(os.path.basename(p) for p in paths))
      else:
        ckpt = checkpoint or tf.train.latest_checkpoint(output_dir)
        if ckpt is None:
          raise DecodeError(f"no checkpoint in {output_dir}")
        self.model.build_from_specs()
        try:
          model_lib.restore_weights(self.model, ckpt)
        except model_lib.RestoreError as e:
          raise DecodeError(str(e)) from e
        self.checkpoint_path, self.checkpoint_paths = ckpt, [ckpt]
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

  def codecs(self, name):
    """The problem's codecs (t2tlite.data.codecs), with the run's copy of
    its vocabularies."""
    key = ("codecs", name)
    if key not in self._fns:
      self._fns[key] = codecs_lib.for_problem(self.problem(name),
                                              self.vocab_dir)
    return self._fns[key]

  # --- the compiled decode functions ----------------------------------------
  def _decode_fn(self, name, example_inputs, constraint=None, scores=False):
    """The compiled decode function of a problem.

    Sequence targets: fn(inputs, max_len) -> ids [B, K, max_len], best
    first (K: 1 for greedy search, beam_size for beam search, num_samples
    when sampling); with a `constraint` (a target codec's constraint(),
    e.g. a tree_constraint.TreeDecoding) fn(inputs, max_len, limits [B],
    features) instead, features as constraint.prepare() gives them and
    limits each row's own decode limit, which the constraint respects.
    With `scores`, fn returns (ids, scores [B, K], valid [B, K]): each
    hypothesis's score (log-probability over the length penalty) and
    whether it is a real one (see search.beam_search_nbest).
    """
    key = name if constraint is None else (name, "constrained")
    if scores:
      key = (key, "scores")
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
      self._fns[key] = classify
      return classify

    beam = dhp.beam_size
    sampling = dhp.sampling
    joint_ctc = (dhp.ctc_weight > 0 and not sampling and constraint is None
                 and ctc.has_head(model, name))

    def run(inputs, max_len, make_constraint):
      state, _ = model.encode(inputs, name, training=False)
      out = search_outputs(inputs, state, max_len, make_constraint)
      if not joint_ctc:
        return out
      return ctc_rescore.rescore(model, name, inputs, state, out, max_len,
                                 dhp.ctc_weight, dhp.ctc_beam)

    def search_outputs(inputs, state, max_len, make_constraint):
      batch = tf.shape(inputs)[0]
      want_scores = scores or joint_ctc
      if sampling:
        n = max(1, dhp.num_samples)
        state_n = search.tile_beams(state, n) if n > 1 else state
        cache = model.init_cache(state, name, batch * n, max_len)
        step = lambda ids, i, c: model.decode_step(state_n, ids, i, c, name)
        ids, score = search.sample_search(
            step, cache, batch * n, max_len, dhp.temperature,
            dhp.sampling_top_k, search.sample_keys(inputs, n, dhp.seed),
            dhp.alpha, constraint=make_constraint(n))
        ids = tf.reshape(ids, [batch, n, max_len])
        score = tf.reshape(score, [batch, n])
        # Best scored first (a stable order: equal scores keep theirs).
        order = tf.argsort(score, axis=1, direction="DESCENDING",
                           stable=True)
        ids = tf.gather(ids, order, batch_dims=1)
        score = tf.gather(score, order, batch_dims=1)
        return ids, score, tf.ones_like(score, tf.bool)
      if beam <= 1:
        cache = model.init_cache(state, name, batch, max_len)
        step = lambda ids, i, c: model.decode_step(state, ids, i, c, name)
        if want_scores:  # greedy, with the output's score
          ids, score = search.sample_search(
              step, cache, batch, max_len, temperature=0.0, alpha=dhp.alpha,
              constraint=make_constraint(1))
          return (ids[:, None, :], score[:, None],
                  tf.ones([batch, 1], tf.bool))
        ids = search.greedy_search(step, cache, batch, max_len,
                                   constraint=make_constraint(1))
        return ids[:, None, :], None, None
      state_k = search.tile_beams(state, beam)
      cache = model.init_cache(state, name, batch * beam, max_len)
      step = lambda ids, i, c: model.decode_step(state_k, ids, i, c, name)
      if want_scores:
        return search.beam_search_nbest(step, cache, batch, beam, max_len,
                                        dhp.alpha,
                                        constraint=make_constraint(beam))
      seqs, _ = search.beam_search(step, cache, batch, beam, max_len,
                                   dhp.alpha,
                                   constraint=make_constraint(beam))
      return seqs, None, None

    def result(out):
      return out if scores else out[0]

    if constraint is None:
      @tf.function(input_signature=[sig, tf.TensorSpec([], tf.int32)])
      def generate(inputs, max_len):
        return result(run(inputs, max_len, lambda k: None))
    else:
      @tf.function(input_signature=[
          sig, tf.TensorSpec([], tf.int32), tf.TensorSpec([None], tf.int32),
          tuple(constraint.feature_signature)])
      def generate(inputs, max_len, limits, features):
        return result(run(inputs, max_len,
                          lambda k: constraint.constraint(features, limits,
                                                          k)))

    self._fns[key] = generate
    return generate

  def _max_len(self, name, inputs_len):
    if self.dhp.max_length:
      return self.dhp.max_length
    return int(max(1, self.codecs(name).targets.decode_length(
        inputs_len, self.dhp.extra_length)))

  def decode_arrays(self, name, arrays, return_beams=None):
    """Decodes a list of model inputs (numpy); returns model outputs: ids
    for sequence targets, class probabilities for class labels.

    With return_beams (default: the decode hparam), each sequence output is
    instead a list of (ids, score) pairs, best first: the beams of beam
    search (see search.beam_search_nbest: up to beam_size, distinct), the
    samples when sampling (num_samples), or greedy search's one output.
    """
    sequence = self.model.target_modality(name).targets_are_sequence
    if return_beams is None:
      return_beams = self.dhp.return_beams
    nbest = bool(return_beams) and sequence
    constraint = None
    if sequence and self.dhp.constrained:
      key = ("constraint", name)
      if key not in self._fns:
        self._fns[key] = tree_constraint.for_grammar(
            self.codecs(name).targets.grammar(), name)
      constraint = self._fns[key]
    outputs = [None] * len(arrays)
    order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[0])
    bs = max(1, self.dhp.batch_size)
    for start in range(0, len(order), bs):
      idx = order[start:start + bs]
      batch = _pad([arrays[i] for i in idx])
      fn = self._decode_fn(name, arrays[idx[0]], constraint, scores=nbest)
      if not sequence:
        probs = fn(batch).numpy()
        for j, i in enumerate(idx):
          outputs[i] = probs[j]
        continue
      if constraint is not None:
        # Each row's limit is at least what its shortest allowed output
        # needs, so a constrained output always ends (with EOS) in it.
        features, mins = constraint.prepare([arrays[i] for i in idx])
        own = [max(self._max_len(name, arrays[i].shape[0]), int(m))
               for i, m in zip(idx, mins)]
        out = fn(batch, tf.constant(max(own), tf.int32),
                 tf.constant(own, tf.int32),
                 tuple(tf.constant(f) for f in features))
      else:
        out = fn(batch, tf.constant(self._max_len(name, batch.shape[1]),
                                    tf.int32))
        # The batch decodes up to its longest input's limit; each output
        # keeps its own input's limit, so an output that never ends does
        # not depend on what it was batched with.
        own = [self._max_len(name, arrays[i].shape[0]) for i in idx]
      if not nbest:
        out = out.numpy()
        for j, i in enumerate(idx):
          outputs[i] = _strip(out[j, 0][:own[j]])
        continue
      ids, scores, valid = (t.numpy() for t in out)
      for j, i in enumerate(idx):
        hyps, seen = [], set()
        for k in range(ids.shape[1]):
          if not valid[j, k]:
            continue
          h = _strip(ids[j, k][:own[j]])
          if not self.dhp.sampling:
            # Distinct beams can meet once cut at the input's own limit.
            if tuple(h) in seen:
              continue
            seen.add(tuple(h))
          hyps.append((h, float(scores[j, k])))
        outputs[i] = hyps
    return outputs

  def format_nbest(self, name, hyps, line=None):
    """[(ids, score), ...] -> the n-best line (see NBEST_SEPARATOR)."""
    return NBEST_SEPARATOR.join(
        f"{self.format_output(name, ids, line)}{NBEST_SEPARATOR}"
        f"{score:.4f}" for ids, score in hyps)

  def format_output(self, name, output, line=None):
    """One output as text, by the problem's target codec; with the input
    line where the codec writes with it (parsing: the line's words as the
    tree's leaves)."""
    return self.codecs(name).targets.to_text(output, self.dhp.values(), line)

  def model_input(self, name, line):
    """One decode-file line -> (model input, warning or None), by the
    problem's input codec; a ValueError for a line it cannot use."""
    return self.codecs(name).inputs.from_line(
        line, configs.data_config(self.hparams))

  def decode_lines(self, name, lines, report=None):
    """One output line per input line, in order; '' for empty/bad lines."""
    report = report or (lambda msg: print(msg, file=sys.stderr))
    arrays, where = [], []
    for n, line in enumerate(lines):
      line = line.rstrip("\n")
      if not line.strip():
        continue
      try:
        arr, warning = self.model_input(name, line)
      except ValueError as e:
        report(f"line {n + 1}: {e}")
        continue
      if warning:
        report(f"line {n + 1}: {warning}")
      arrays.append(arr)
      where.append(n)
    results = [""] * len(lines)
    for n, out in zip(where, self.decode_arrays(name, arrays)):
      line = lines[n].rstrip("\n")
      if isinstance(out, list):  # return_beams: an n-best line
        results[n] = self.format_nbest(name, out, line)
      else:
        results[n] = self.format_output(name, out, line)
    return results

  def evaluate(self, name, split="test", limit=None):
    """Decodes a split and scores it with the problem's own metrics."""
    problem = self.problem(name)
    inputs, refs = [], []
    for arr, ref in pipeline.eval_pairs(problem, self.data_dir, split,
                                        self.hparams, limit):
      inputs.append(arr)
      refs.append(ref)
    # Scored on the best output (with return_beams too).
    outs = self.decode_arrays(name, inputs, return_beams=False)
    dhp = dict(self.dhp.values(), top_k=1)
    target = self.codecs(name).targets
    hyps = [target.to_text(o, dhp) for o in outs]
    return metrics.score(problem, hyps, refs), hyps, refs


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
