"""Class labels: one label per example, out through Xception's exit flow.

Labels are 0..C-1 and every one is a real class (there is no padding id),
so `loss` counts every example, unlike the text modality whose id 0 pads.
Targets reach the model as [B, 1]; the decoder runs one step and the top
gives logits [B, 1, C].
"""
import keras
import tensorflow as tf

from t2tlite import modality
from t2tlite import registry
from t2tlite.layers import conv2d


def to_2d(x, context):
  """Body output [B, S, d] -> [B, h, w, d] if S == h * w of the input image.

  The decoder's output for a class label has S = 1, not h * w, so the
  image's shape applies only when the lengths agree; otherwise (and with no
  image input at all) the sequence becomes a column [B, S, 1, d].
  """
  shape = tf.shape(x)
  b, s, d = shape[0], shape[1], x.shape[-1]
  spatial = (context or {}).get("spatial_shape")
  if spatial is None:
    return tf.reshape(x, [b, s, 1, d])
  h = tf.cast(spatial[0], tf.int32)
  w = tf.cast(spatial[1], tf.int32)
  fits = tf.equal(h * w, s)
  return tf.reshape(x, [b, tf.where(fits, h, s), tf.where(fits, w, 1), d])


def top_k_accuracy(logits, targets, k=1):
  """Fraction of examples whose label is among the k best logits."""
  logits = tf.reshape(tf.cast(logits, tf.float32), [-1, tf.shape(logits)[-1]])
  targets = tf.reshape(tf.cast(targets, tf.int32), [-1])
  hit = tf.nn.in_top_k(targets, logits, k)
  return tf.reduce_mean(tf.cast(hit, tf.float32))


@registry.register_modality("class_label")
class ClassLabelModality(modality.Modality):
  """The paper's categorical output net (PAPER, "Modality nets").

  skip = ConvStep_{s=2}(3x3, x), h1 = ConvStep(3x3, x),
  h2 = ConvStep(3x3, h1), h3 = skip + MaxPool_2(3x3, h2),
  h4 = ConvStep_{f=1536}(3x3, h3), h5 = ConvStep_{f=2048}(3x3, h4),
  h6 = GlobalAvgPool(ReLU(h5)), logits = pointwise conv(h6) to C classes.
  skip, h1 and h2 keep the body depth d; 1536 and 2048 are capped at 1.5d
  and 2d (see conv2d.scaled_filters), which is the paper's count at d=1024.
  """

  targets_are_sequence = False

  def __init__(self, hparams, vocab_size, **kwargs):
    super().__init__(hparams, vocab_size, **kwargs)
    d = hparams.hidden_size
    self.embedding = keras.layers.Embedding(
        vocab_size, d, embeddings_initializer=keras.initializers.RandomNormal(
            stddev=d ** -0.5), name="embedding")
    self.skip = conv2d.ConvStep2D(d, 3, strides=2, name="skip")
    self.h1 = conv2d.ConvStep2D(d, 3, name="h1")
    self.h2 = conv2d.ConvStep2D(d, 3, name="h2")
    self.pool = keras.layers.MaxPooling2D(3, strides=2, padding="same")
    self.h4 = conv2d.ConvStep2D(conv2d.scaled_filters(1536, hparams, 1.5), 3,
                                name="h4")
    self.h5 = conv2d.ConvStep2D(conv2d.scaled_filters(2048, hparams, 2.0), 3,
                                name="h5")
    # A pointwise convolution of a 1x1 map is a dense layer.
    self.logits = keras.layers.Dense(vocab_size, name="logits")

  def _embed(self, labels):
    labels = tf.reshape(tf.cast(labels, tf.int32), [-1, 1])
    return self.embedding(labels) * (self.hparams.hidden_size ** 0.5)

  def example_inputs(self):
    return tf.zeros([1, 1], tf.int64)

  def example_targets(self):
    return tf.zeros([1, 1], tf.int64)

  def bottom(self, x, training=False):
    """Labels as inputs: [B] or [B, 1] -> one vector per example."""
    emb = self._embed(x)
    return emb, tf.ones(tf.shape(emb)[:2], tf.bool), {}

  def targets_bottom(self, ids, training=False):
    return self._embed(ids)

  def top(self, body_output, training=False, context=None):
    x = to_2d(body_output, context)
    h3 = self.skip(x) + self.pool(self.h2(self.h1(x)))
    h5 = self.h5(self.h4(h3))
    h6 = tf.reduce_mean(tf.nn.relu(h5), axis=[1, 2])  # [B, f5]
    return self.logits(h6)[:, None, :]  # [B, 1, C]

  def target_weights(self, targets):
    """Every label is a real class: weight 1 for each example."""
    return tf.ones(tf.shape(targets), tf.float32)

  def loss(self, logits, targets, label_smoothing=0.0):
    """(sum of per-example losses, number of examples): all labels count.

    Label smoothing as in the base class, with the entropy floor removed so
    that a perfect model scores 0.
    """
    num_classes = tf.shape(logits)[-1]
    logits = tf.reshape(tf.cast(logits, tf.float32), [-1, num_classes])
    targets = tf.reshape(tf.cast(targets, tf.int32), [-1])
    onehot = tf.one_hot(targets, num_classes)
    floor = 0.0
    if label_smoothing:
      n = tf.cast(num_classes, tf.float32)
      conf, low = 1.0 - label_smoothing, label_smoothing / (n - 1.0)
      onehot = onehot * (conf - low) + low
      floor = -(conf * tf.math.log(conf) +
                (n - 1.0) * low * tf.math.log(low + 1e-20))
    xent = tf.nn.softmax_cross_entropy_with_logits(onehot, logits) - floor
    return tf.reduce_sum(xent), tf.cast(tf.size(targets), tf.float32)
