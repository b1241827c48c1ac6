"""Every layer of t2tlite.layers takes its own arguments and rebuilds from
its config (keras get_config / from_config) into a layer that computes the
same function with the same weights."""
import inspect

import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from t2tlite.layers import attention, common, conv2d, convolution, ctc, moe

CASES = [
    (attention.MultiHeadAttention(16, 4, dropout=0.1), [2, 5, 16]),
    (common.FeedForward(16, 32, 0.1), [2, 5, 16]),
    (convolution.SeparableConv1D(8, 3, dilation=2, padding="causal"),
     [2, 7, 4]),
    (convolution.ConvStep(8, 3, dilation=2, padding="causal"), [2, 7, 4]),
    (conv2d.ConvStep2D(8, 3, strides=2, separable=False), [2, 8, 8, 3]),
    (conv2d.ConvRes2D(8), [2, 8, 8, 3]),
    (moe.MixtureOfExperts(16, 24, 4, 2, noise=False), [2, 5, 16]),
]


def _call(layer, x):
  if isinstance(layer, attention.MultiHeadAttention):
    out = layer(x, x)
  else:
    out = layer(x)
  return out[0] if isinstance(out, tuple) else out


def test_every_layer_class_defines_its_config():
  for module in (attention, common, conv2d, convolution, ctc, moe):
    for _, cls in inspect.getmembers(module, inspect.isclass):
      if (issubclass(cls, keras.layers.Layer) and
          cls.__module__ == module.__name__ and cls is not common.Dense):
        assert "get_config" in cls.__dict__, cls.__name__


@pytest.mark.parametrize("layer,shape", CASES,
                         ids=[type(c[0]).__name__ for c in CASES])
def test_layer_rebuilds_from_its_config(layer, shape):
  x = tf.random.stateless_normal(shape, seed=[1, 2])
  _assert_rebuilds(layer, lambda l: _call(l, x))


def _assert_rebuilds(layer, call):
  """The layer's config rebuilds a twin that, given the layer's weights,
  computes what the layer computes (call(layer) -> tensor or tuple)."""
  want = call(layer)
  config = layer.get_config()
  twin = type(layer).from_config(config)
  assert twin.get_config() == config
  call(twin)
  twin.set_weights(layer.get_weights())
  for w, g in zip(tf.nest.flatten(want), tf.nest.flatten(call(twin))):
    np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-5, atol=1e-5)


def test_ctc_head_rebuilds_from_its_config():
  head = ctc.CTCHead(11, name="ctc_head_0")
  twin = ctc.CTCHead.from_config(head.get_config())
  assert twin.vocab_size == 11 and twin.name == "ctc_head_0"


def test_audio_conv_blocks_rebuild_from_their_config():
  from t2tlite.modalities import audio
  x = tf.random.stateless_normal([2, 8, 6, 3], seed=[3, 4])
  mask = tf.constant([[True] * 8, [True] * 5 + [False] * 3])
  for layer in (audio.ConvStep(4, (3, 3), relu=False),
                audio.ConvRes(4, (3, 3), stride=2, first_relu=False,
                              freq_stride=2)):
    _assert_rebuilds(layer, lambda l: l(x, mask))
