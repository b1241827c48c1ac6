"""The hand-written gradients of the conv step match TensorFlow's own."""
import keras
import numpy as np
import pytest
import tensorflow as tf

from t2tlite.layers import convolution


def _reference_depthwise(x, w, dilation, left, right):
  x = tf.pad(x, [[0, 0], [left, right], [0, 0]])
  y = tf.nn.depthwise_conv2d(tf.expand_dims(x, 1), w[None, :, :, None],
                             strides=[1, 1, 1, 1], padding="VALID",
                             dilations=[1, dilation])
  return tf.squeeze(y, 1)


@pytest.mark.parametrize("k,dilation,causal", [(3, 1, False), (3, 2, True),
                                               (5, 4, False), (1, 1, True)])
def test_depthwise_conv_values_and_gradients(k, dilation, causal):
  rng = np.random.default_rng(k * 10 + dilation)
  x = tf.constant(rng.normal(size=(2, 11, 6)), tf.float32)
  w = tf.constant(rng.normal(size=(k, 6)), tf.float32)
  total = (k - 1) * dilation
  left, right = (total, 0) if causal else (total // 2, total - total // 2)
  dy = tf.constant(rng.normal(size=(2, 11, 6)), tf.float32)
  grads = []
  for fn in (convolution.depthwise_conv, _reference_depthwise):
    with tf.GradientTape() as tape:
      tape.watch([x, w])
      y = fn(x, w, dilation, left, right)
      loss = tf.reduce_sum(y * dy)
    grads.append((y, *tape.gradient(loss, [x, w])))
  for ours, ref in zip(*grads):
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-4,
                               rtol=1e-4)


def test_layer_norm_values_and_gradients_match_keras():
  rng = np.random.default_rng(0)
  x = tf.constant(rng.normal(2.0, 3.0, size=(3, 7, 16)), tf.float32)
  dy = tf.constant(rng.normal(size=(3, 7, 16)), tf.float32)
  norm = keras.layers.LayerNormalization(epsilon=1e-6)
  norm.build(x.shape)
  norm.gamma.assign(rng.normal(1.0, 0.2, size=16))
  norm.beta.assign(rng.normal(0.0, 0.2, size=16))
  results = []
  for fn in (lambda v: convolution.layer_norm(v, norm), norm):
    with tf.GradientTape() as tape:
      tape.watch(x)
      loss = tf.reduce_sum(fn(x) * dy)
    results.append([fn(x)] + tape.gradient(loss, [x, norm.gamma, norm.beta]))
  for ours, ref in zip(*results):
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-4,
                               rtol=1e-4)
