"""Separable conv steps: padding, causality and one-position decoding."""
import numpy as np
import pytest
import tensorflow as tf

from t2tlite.layers import convolution


def _random(shape, seed=0):
  return tf.constant(np.random.RandomState(seed).randn(*shape), tf.float32)


def test_causal_step_ignores_the_future():
  step = convolution.ConvStep(8, 15, dilation=8, padding="causal")
  x = _random([2, 30, 6])
  t = 11
  noise = np.zeros([2, 30, 6], np.float32)
  noise[:, t + 1:] = 5.0
  y, y2 = step(x), step(x + noise)
  np.testing.assert_allclose(y[:, :t + 1], y2[:, :t + 1], atol=1e-6)
  assert np.abs(y[:, t + 1:] - y2[:, t + 1:]).max() > 1e-3


def test_same_padding_sees_both_sides_and_keeps_length():
  step = convolution.ConvStep(8, 3, padding="same")
  x = _random([2, 10, 6])
  noise = np.zeros([2, 10, 6], np.float32)
  noise[:, 5] = 5.0
  y, y2 = step(x), step(x + noise)
  assert y.shape == (2, 10, 8)
  changed = np.abs(y - y2).max(axis=(0, 2)) > 1e-4
  assert changed.tolist() == [i in (4, 5, 6) for i in range(10)]


def test_padding_mask_keeps_real_positions_independent_of_padding():
  step = convolution.ConvStep(8, 15, padding="same")
  x = _random([1, 6, 4])
  longer = tf.concat([x, _random([1, 9, 4], seed=1)], axis=1)
  valid = tf.constant([[True] * 6 + [False] * 9])
  y = step(x)
  y_padded = step(longer, valid)
  np.testing.assert_allclose(y, y_padded[:, :6], atol=1e-5)


@pytest.mark.parametrize("kernel,dilation", [(3, 1), (15, 1), (3, 8)])
def test_incremental_steps_equal_the_full_causal_pass(kernel, dilation):
  step = convolution.ConvStep(5, kernel, dilation=dilation, padding="causal")
  x = _random([3, 24, 5])
  full = step(x)
  cache = step.init_cache(3, 5)
  assert cache.shape == (3, (kernel - 1) * dilation, 5)
  outputs = []
  for t in range(24):
    y, cache = step(x[:, t:t + 1], cache=cache)
    assert cache.shape == (3, (kernel - 1) * dilation, 5)
    outputs.append(y)
  np.testing.assert_allclose(tf.concat(outputs, 1), full, atol=1e-5)


def test_same_padding_refuses_incremental_decoding():
  step = convolution.ConvStep(4, 3, padding="same")
  step(_random([1, 4, 4]))
  with pytest.raises(ValueError, match="causal"):
    step(_random([1, 1, 4]), cache=tf.zeros([1, 2, 4]))


def test_unknown_padding_is_rejected():
  with pytest.raises(ValueError, match="padding"):
    convolution.SeparableConv1D(4, 3, padding="valid")
