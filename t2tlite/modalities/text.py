"""Text: one embedding per vocabulary, and a linear map + softmax out."""
import keras
import tensorflow as tf

from t2tlite import modality
from t2tlite import registry


@registry.register_modality("text")
class TextModality(modality.Modality):
  """Embedding scaled by sqrt(d); output optionally tied to it."""

  def build(self, input_shape=None):
    d = self.hparams.hidden_size
    self.embedding = self.add_weight(
        name="embedding", shape=(self.vocab_size, d),
        initializer=keras.initializers.RandomNormal(stddev=d ** -0.5))
    if not self.hparams.shared_embedding_and_softmax:
      self.softmax_weights = self.add_weight(
          name="softmax", shape=(self.vocab_size, d),
          initializer=keras.initializers.RandomNormal(stddev=d ** -0.5))
    else:
      self.softmax_weights = None
    self.built = True

  def _embed(self, ids):
    if not self.built:
      self.build()
    ids = tf.cast(ids, tf.int32)
    # Cast explicitly: decoding calls bottom() outside Keras' autocast scope,
    # where the variable reads as float32.
    x = tf.cast(tf.gather(self.embedding, ids), self.compute_dtype) * (
        self.hparams.hidden_size ** 0.5)
    return x * tf.cast(tf.not_equal(ids, 0), x.dtype)[..., None]

  def example_inputs(self):
    return tf.constant([[2, 3, 1]], tf.int64)

  def example_targets(self):
    return tf.constant([[2, 3, 1]], tf.int64)

  def bottom(self, x, training=False):
    return self._embed(x), tf.not_equal(tf.cast(x, tf.int32), 0), {}

  def targets_bottom(self, ids, training=False):
    return self._embed(ids)

  def top(self, body_output, training=False, context=None):
    if not self.built:
      self.build()
    w = self.softmax_weights if self.softmax_weights is not None else (
        self.embedding)
    w = tf.cast(w, body_output.dtype)
    return tf.einsum("btd,vd->btv", body_output, w)
