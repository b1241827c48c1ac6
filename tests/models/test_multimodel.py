"""The MultiModel: causality, incremental decoding, task token, training."""
import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from t2tlite import registry
from t2tlite.decode import search
from t2tlite.hparams import multimodel as multimodel_hparams
from t2tlite.layers import common
from t2tlite.modalities import text
from t2tlite.models.multimodel import body
from t2tlite.data.problem import ProblemSpec

VOCAB = 40


def _spec(name="p", task_token_id=2, target_modality="text"):
  return ProblemSpec(name, "text", VOCAB, None, target_modality, VOCAB, None,
                     "to_de", task_token_id)


def _ids(shape, seed=0):
  return tf.constant(np.random.RandomState(seed).randint(1, VOCAB, shape),
                     tf.int32)


def _model(overrides="", specs=None):
  hp = registry.hparams("multimodel_tiny").override(overrides)
  tf.random.set_seed(1)
  return body.MultiModel(hp, specs or [_spec()])


PAPER_LAYOUT = ("num_encoder_blocks=6,mixer_conv_blocks=2,"
                "num_decoder_blocks=4,attention_conv_blocks=2")
ABLATIONS = "use_moe=false,decoder_attention=false,encoder_self_attention=true"


@pytest.fixture(scope="module")
def tiny():
  return _model()


def _features(batch=2, src=6, tgt=9):
  return {"inputs": _ids([batch, src]), "targets": _ids([batch, tgt], 1)}


def test_timing_signal_matches_the_paper():
  depth, length = 8, 5
  got = common.timing_signal(length, depth).numpy()
  for t in range(length):
    for d in range(depth // 2):
      delta = 1e4 ** (-2 * d / depth)
      assert got[t, d] == pytest.approx(math.sin(t * delta), abs=1e-5)
      assert got[t, depth // 2 + d] == pytest.approx(math.cos(t * delta),
                                                     abs=1e-5)


@pytest.mark.parametrize("overrides", ["", ABLATIONS])
def test_mixer_and_decoder_are_causal(overrides, tiny):
  model = _model(overrides) if overrides else tiny
  feats = _features()
  logits, _ = model(feats, problem="p")
  t = 4
  changed = tf.concat([feats["targets"][:, :t],
                       _ids([2, 9 - t], seed=7)], axis=1)
  logits2, _ = model({**feats, "targets": changed}, problem="p")
  # Logits at position t read targets < t only (the inputs are shifted).
  np.testing.assert_allclose(logits[:, :t + 1], logits2[:, :t + 1], atol=1e-5)
  assert np.abs(logits[:, t + 1:] - logits2[:, t + 1:]).max() > 1e-4


@pytest.mark.parametrize("overrides", ["", ABLATIONS, PAPER_LAYOUT])
def test_incremental_decoding_equals_the_full_pass(overrides, tiny):
  model = _model(overrides) if overrides else tiny
  length = 6 if overrides == PAPER_LAYOUT else 10
  feats = _features(tgt=length)
  full, _ = model(feats, problem="p")
  state, _ = model.encode(feats["inputs"], "p")
  cache = model.init_cache(state, "p", 2, length)
  prev = tf.zeros([2], tf.int32)
  for i in range(length):
    logits, new_cache = model.decode_step(state, prev, tf.constant(i), cache,
                                          "p")
    tf.nest.assert_same_structure(cache, new_cache)
    for old, new in zip(tf.nest.flatten(cache), tf.nest.flatten(new_cache)):
      # Self-attention keys and values gain a position; the rest keep
      # their shapes.
      assert search.cache_shapes(old).is_compatible_with(new.shape)
    np.testing.assert_allclose(logits, full[:, i], atol=1e-4)
    cache, prev = new_cache, feats["targets"][:, i]


def test_incremental_decoding_compiles_in_a_while_loop(tiny):
  model = tiny
  feats = _features(tgt=7)
  full, _ = model(feats, problem="p")
  state, _ = model.encode(feats["inputs"], "p")
  targets = feats["targets"]

  @tf.function
  def decode(state):
    cache = model.init_cache(state, "p", 2, 7)
    out = tf.TensorArray(tf.float32, size=7)

    def body_fn(i, prev, cache, out):
      logits, cache = model.decode_step(state, prev, i, cache, "p")
      return i + 1, tf.gather(targets, i, axis=1), cache, out.write(i, logits)

    # The self-attention caches grow a position a step (search.cache_shapes).
    _, _, _, out = tf.while_loop(
        lambda i, *_: i < 7, body_fn,
        (tf.constant(0), tf.zeros([2], tf.int32), cache, out),
        shape_invariants=(tf.TensorShape([]), tf.TensorShape([2]),
                          search.cache_shapes(cache),
                          tf.TensorShape(None)))
    return tf.transpose(out.stack(), [1, 0, 2])

  np.testing.assert_allclose(decode(state), full, atol=1e-4)


def test_task_token_changes_the_output():
  model = _model(specs=[_spec("to_de", 2), _spec("to_fr", 3)])
  feats = _features()
  de, _ = model(feats, problem="to_de")
  fr, _ = model(feats, problem="to_fr")
  de_again, _ = model(feats, problem="to_de")
  np.testing.assert_allclose(de, de_again, atol=1e-6)
  assert np.abs(de - fr).max() > 1e-3


def test_moe_aux_losses_and_stats(tiny):
  model = tiny
  _, aux = model(_features(), problem="p", training=True)
  assert {"moe_importance_loss", "moe_load_loss"} <= set(aux)
  stats = {k: v for k, v in aux.items() if k.startswith(body.STAT_PREFIX)}
  # 2 x 6 source tokens and 2 x 9 target positions, k = 2 experts each.
  assert int(tf.reduce_sum(stats["moe_stat_encoder_expert_tokens"])) == 24
  assert int(tf.reduce_sum(stats["moe_stat_decoder_expert_tokens"])) == 36
  for key in aux:
    assert key.startswith("moe_")
  _, dense_aux = _model("use_moe=false")(_features(), problem="p")
  assert dense_aux == {}


def test_a_few_train_steps_reduce_the_loss():
  model = _model()
  feats = _features(batch=4, src=8, tgt=8)
  mod = model.target_modality("p")
  opt = keras.optimizers.Adam(1e-2)

  def step():  # eager: compiling the graph would take longer than 8 steps
    with tf.GradientTape() as tape:
      logits, aux = model(feats, problem="p", training=True)
      total, count = mod.loss(logits, feats["targets"])
      loss = total / count
      train_loss = loss + tf.add_n([v for k, v in aux.items()
                                    if not k.startswith(body.STAT_PREFIX)])
    variables = model.trainable_variables
    opt.apply_gradients(zip(tape.gradient(train_loss, variables), variables))
    return loss

  losses = [float(step()) for _ in range(8)]
  assert losses[-1] < 0.8 * losses[0]


class _LabelDouble(text.TextModality):
  """A class-label output: one label per example, top pools the encoder."""

  targets_are_sequence = False
  seen = {}

  def top(self, body_output, training=False, context=None):
    _LabelDouble.seen.update(shape=tuple(body_output.shape), context=context)
    pooled = tf.reduce_mean(body_output, axis=1, keepdims=True)
    return super().top(pooled, training, context)


class _GridInputDouble(text.TextModality):
  """Text in, but it reports a 2-D shape as an image bottom would."""

  def bottom(self, x, training=False):
    emb, mask, _ = super().bottom(x, training)
    return emb, mask, {"spatial_shape": (2, 3)}


@pytest.fixture
def label_modalities():
  registry.modalities.register("mm_test_label")(_LabelDouble)
  registry.modalities.register("mm_test_grid")(_GridInputDouble)
  yield
  registry.modalities.unregister("mm_test_label")
  registry.modalities.unregister("mm_test_grid")


def test_class_labels_skip_the_decoder(label_modalities):
  spec = ProblemSpec("label", "mm_test_grid", VOCAB, None, "mm_test_label",
                     VOCAB, None, "to_label", 14)
  model = _model(specs=[spec])
  inputs = _ids([3, 6])
  logits, aux = model({"inputs": inputs, "targets": _ids([3], 2)},
                      problem="label")
  assert _LabelDouble.seen == {"shape": (3, 6, 32),
                               "context": {"spatial_shape": (2, 3)}}
  assert logits.shape == (3, 1, VOCAB)
  assert not any(k.startswith("moe_stat_decoder") for k in aux)
  state, _ = model.encode(inputs, "label")
  step_logits, _ = model.decode_step(
      state, tf.zeros([3], tf.int32), tf.constant(0),
      model.init_cache(state, "label", 3, 1), "label")
  np.testing.assert_allclose(step_logits, logits[:, 0], atol=1e-5)


def test_hparams_sets_are_registered():
  for name in ("multimodel_tiny", "multimodel_base", "multimodel_paper",
               "multimodel_paper_code"):
    assert name in registry.hparams_sets
  paper = multimodel_hparams.multimodel_paper()
  code = multimodel_hparams.multimodel_paper_code()
  assert (paper.moe_k, paper.moe_num_experts, paper.dropout) == (4, 240, 0.4)
  assert (code.moe_k, code.moe_num_experts, code.hidden_size) == (2, 120,
                                                                  1536)
