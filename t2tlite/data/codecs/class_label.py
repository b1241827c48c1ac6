"""Class labels: one of the problem's `class_names`.

Outputs are class probabilities, written as the best name, or with decode
hparam top_k=K as the K best "name:score" pairs joined by "; ". The
exporter builds its top-k from `class_names` itself (serve/export.py).
"""
import numpy as np

from t2tlite import registry
from t2tlite.data.codecs import base


@registry.register_codec("class_label")
class ClassLabelCodec(base.Codec):
  """Targets that are one of `problem.class_names`."""

  @property
  def class_names(self):
    return tuple(self.problem.class_names)

  # --- storage: the label id ------------------------------------------------
  def encode(self, value):
    """A class name or index -> the stored label (a scalar under the
    problem's label_feature, else a one-element target)."""
    label = self.problem.label_id(value)
    return {self._feature: label if self._feature != self.key else [label]}

  # --- reading: the stored label -------------------------------------------
  @property
  def _feature(self):
    """Image problems store a scalar "label"; text classification stores
    the label as a one-element target (ClassLabelTargets.label_feature)."""
    return getattr(self.problem, "label_feature", None) or self.key

  def feature_spec(self):
    import tensorflow as tf
    if self._feature == self.key:
      return {self.key: tf.io.VarLenFeature(tf.int64)}
    return {self._feature: tf.io.FixedLenFeature([], tf.int64)}

  def to_model(self, example, config, training, seed=None):
    label = example[self._feature]
    return label if self._feature == self.key else label[None]

  def batching(self, config):
    return base.BatchSide(padded_shape=(1,))

  def to_text(self, output, decode_hparams, line=None):
    probs = np.asarray(output, np.float64).reshape(-1)
    k = max(1, int(decode_hparams["top_k"]))
    best = np.argsort(-probs, kind="stable")[:k]
    if k == 1:
      return self.class_names[best[0]]
    return "; ".join(f"{self.class_names[i]}:{probs[i]:.4f}" for i in best)

  def reference(self, record):
    """The stored label: an image problem's "label" feature, or a text
    classification problem's one-element target."""
    label = record[self._feature]
    return self.class_names[int(np.asarray(label).reshape(-1)[0])]
