"""Modalities connect problems to models.

A modality net maps one kind of data (text ids, images, audio, class labels)
into the body's representation, a sequence of vectors of depth
`hparams.hidden_size`, and maps the body's output back to logits. One net per
modality and vocabulary is shared by every problem that uses it.
"""
import keras
import tensorflow as tf

from t2tlite import registry


class Modality(keras.layers.Layer):
  """Base class. Subclasses register with `@registry.register_modality`."""

  # False for outputs that are one label per example (no decoding loop).
  targets_are_sequence = True

  def __init__(self, hparams, vocab_size, **kwargs):
    super().__init__(**kwargs)
    self.hparams = hparams
    self.vocab_size = vocab_size

  def bottom(self, x, training=False):
    """Input side: raw features [B, ...] -> ([B, T, d], mask [B, T], context).

    `context` is a dict of what the output side may need (e.g. the 2-D
    shape of an image's feature map); {} when there is nothing.
    """
    raise NotImplementedError

  def targets_bottom(self, ids, training=False):
    """Target side, for the decoder's shifted inputs: [B, T] -> [B, T, d]."""
    raise NotImplementedError

  def top(self, body_output, training=False, context=None):
    """Body output [B, T, d] -> logits [B, T, V].

    `context` holds what the input side recorded (for instance the 2-D
    shape of an image's feature map, which the class-label exit flow needs).
    """
    raise NotImplementedError

  def example_inputs(self):
    """A one-example input batch of the kind `bottom` takes, for building
    the variables without data (any values of the right shape and dtype)."""
    raise NotImplementedError(
        f"modality '{self.name}' cannot be used as an input; or it does not "
        "define example_inputs(), which building a model from its specs "
        "needs")

  def example_targets(self):
    """A one-example target batch, as `example_inputs` for the outputs."""
    raise NotImplementedError(
        f"modality '{self.name}' cannot be used as a target; or it does not "
        "define example_targets(), which building a model from its specs "
        "needs")

  def target_weights(self, targets):
    """1.0 for each real target position, 0.0 for padding (id 0)."""
    return tf.cast(tf.not_equal(tf.cast(targets, tf.int32), 0), tf.float32)

  def loss(self, logits, targets, label_smoothing=0.0):
    """(sum of per-token losses, sum of weights); see `target_weights`."""
    targets = tf.cast(targets, tf.int32)
    logits = tf.cast(logits, tf.float32)
    vocab = tf.shape(logits)[-1]
    onehot = tf.one_hot(targets, vocab)
    if label_smoothing:
      conf = 1.0 - label_smoothing
      low = label_smoothing / tf.cast(vocab - 1, tf.float32)
      onehot = onehot * (conf - low) + low
    xent = tf.nn.softmax_cross_entropy_with_logits(onehot, logits)
    if label_smoothing:  # subtract the entropy floor so a perfect model is 0
      conf = 1.0 - label_smoothing
      low = label_smoothing / tf.cast(vocab - 1, tf.float32)
      floor = -(conf * tf.math.log(conf) + tf.cast(vocab - 1, tf.float32) *
                low * tf.math.log(low + 1e-20))
      xent -= floor
    weights = self.target_weights(targets)
    return tf.reduce_sum(xent * weights), tf.reduce_sum(weights)


def overrides(hparams):
  """hparams.modality_overrides "from=to,..." -> {from: to}; each name must
  be a registered modality (a RegistryError naming the nearest)."""
  out = {}
  text = getattr(hparams, "modality_overrides", "") or ""
  for item in filter(None, (p.strip() for p in text.split(","))):
    src, sep, dst = item.partition("=")
    if not sep or not src.strip() or not dst.strip():
      raise registry.RegistryError(
          f"modality_overrides item {item!r} is not 'from=to'")
    registry.modalities.get(src.strip())
    registry.modalities.get(dst.strip())
    out[src.strip()] = dst.strip()
  return out


def create(name, hparams, vocab_size):
  """The net of modality `name` (or of its hparams override)."""
  name = overrides(hparams).get(name, name)
  return registry.modalities.get(name)(hparams, vocab_size,
                                       name=f"modality_{name}_{vocab_size}")
