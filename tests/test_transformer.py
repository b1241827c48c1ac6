"""The transformer's incremental decoder equals its full forward pass."""
import numpy as np
import tensorflow as tf

import t2tlite  # noqa: F401
from t2tlite import model as model_lib
from t2tlite.data import problem
from t2tlite import registry


def build():
  hp = registry.hparams("transformer_tiny")
  spec = problem.ProblemSpec("p", "text", 30, "v", "text", 30, "v", "to_de",
                             2)
  m = registry.model("transformer")(hp, [spec])
  rng = np.random.default_rng(0)
  feats = {"inputs": tf.constant(rng.integers(3, 30, (2, 7))),
           "targets": tf.constant(rng.integers(3, 30, (2, 6)))}
  return m, feats


def test_incremental_matches_full_pass_and_is_causal():
  m, feats = build()
  full, _ = m(feats, problem="p", training=False)
  state, _ = m.encode(feats["inputs"], "p")
  cache = m.init_cache(state, "p", 2, 6)
  tg = tf.cast(feats["targets"], tf.int32)
  for i in range(6):
    prev = tg[:, i - 1] if i else tf.zeros([2], tf.int32)
    logits, cache = m.decode_step(state, prev, tf.constant(i), cache, "p")
    np.testing.assert_allclose(logits.numpy(), full[:, i].numpy(),
                               atol=1e-4)
  changed = dict(feats, targets=tf.concat([feats["targets"][:, :3],
                                           feats["targets"][:, 3:] + 1], 1))
  out2, _ = m(changed, problem="p", training=False)
  # Targets from position 3 on feed decoder positions 4..: 0..3 unchanged.
  np.testing.assert_allclose(out2[:, :4].numpy(), full[:, :4].numpy(),
                             atol=1e-5)
  assert not np.allclose(out2[:, 4:].numpy(), full[:, 4:].numpy())


def test_checkpoint_keys_do_not_depend_on_auto_names():
  a, _ = build()
  b, _ = build()  # second model in one process: Keras auto names differ
  for m in (a, b):
    m(build()[1], problem="p")
  assert sorted(model_lib.structured_variables(a)) == sorted(
      model_lib.structured_variables(b))
