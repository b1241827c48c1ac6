"""Non-finite losses skip the update, are counted, and stop the run."""
import os
import sys

import pytest
import tensorflow as tf

import t2tlite  # noqa: F401
from t2tlite import registry
from t2tlite.train import trainer
from t2tlite.models import transformer

sys.path.insert(0, os.path.dirname(__file__))
import usr_dir_example  # noqa: E402,F401

POISON = tf.Variable(False, trainable=False)


@registry.register_model("poisonable_transformer")
class Poisonable(transformer.Transformer):
  """Returns NaN logits while POISON is set (a fault we inject)."""

  def call(self, features, problem=None, training=False):
    logits, aux = super().call(features, problem=problem, training=training)
    # Added, not selected by tf.where: a NaN in an unselected branch would
    # still poison the gradient.
    bad = tf.where(POISON, float("nan"), 0.0)
    return logits + tf.cast(bad, logits.dtype), aux


def test_nonfinite_updates_are_skipped_then_stop(zen_data, tmp_path):
  hp = registry.hparams("zen_tiny").replace(max_nonfinite_steps=3)
  t = trainer.Trainer(["zen_reverse"], "poisonable_transformer", "zen_tiny",
                      hp, zen_data, str(tmp_path))
  POISON.assign(False)
  t.train(10, eval_every=10, eval_steps=1, log_every=5)
  before = [v.numpy().copy() for v in t.model.trainable_variables]
  POISON.assign(True)
  t.train(12, eval_every=100, eval_steps=1, log_every=5)
  assert t.skipped_updates == 2
  after = [v.numpy() for v in t.model.trainable_variables]
  assert all((a == b).all() for a, b in zip(before, after))  # no update
  with pytest.raises(trainer.TrainingError, match="3 non-finite updates"):
    t.train(30, eval_every=100, eval_steps=1, log_every=5)
  POISON.assign(False)
  # The failed run saved nothing after its last good step.
  assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-12")
