"""The image and class-label modality nets, and the 2-D ConvStep layers."""
import numpy as np
import pytest
import tensorflow as tf

from t2tlite import modality as modality_lib
from t2tlite.hparams_lib import defaults
from t2tlite.layers import conv2d
from t2tlite.modalities import class_label
from t2tlite.modalities import image  # noqa: F401  (registers "image")


def tiny(**extra):
  return defaults().replace(hidden_size=16,
                            shared_embedding_and_softmax=True, **extra)


def test_convstep_and_convres_shapes():
  x = tf.random.normal([2, 9, 7, 5])
  assert conv2d.ConvStep2D(6, 3)(x).shape == (2, 9, 7, 6)
  assert conv2d.ConvStep2D(6, 3, strides=2)(x).shape == (2, 5, 4, 6)
  assert conv2d.ConvRes2D(8)(x).shape == (2, 5, 4, 8)


def test_convstep_normalises_each_position():
  y = conv2d.ConvStep2D(12, 3)(tf.random.normal([1, 4, 4, 3]) * 50.0)
  np.testing.assert_allclose(tf.reduce_mean(y, -1).numpy(), 0.0, atol=1e-4)
  np.testing.assert_allclose(tf.math.reduce_std(y, -1).numpy(), 1.0,
                             atol=1e-2)


def test_scaled_filters_caps_the_exit_flow_for_small_models():
  assert conv2d.scaled_filters(1536, tiny(), 1.5) == 24
  assert conv2d.scaled_filters(2048, tiny(), 2.0) == 32
  big = defaults().replace(hidden_size=1024)
  assert conv2d.scaled_filters(1536, big, 1.5) == 1536
  assert conv2d.scaled_filters(2048, big, 2.0) == 2048
  half = tiny(image_filters_scale=0.5)
  assert conv2d.scaled_filters(64, half) == 32


@pytest.mark.parametrize("dtype", [tf.uint8, tf.float32])
def test_image_bottom_flattens_the_feature_map(dtype):
  net = modality_lib.create("image", tiny(), 0)
  images = tf.cast(tf.random.uniform([3, 28, 20, 1], 0, 255), dtype)
  x, mask, context = net.bottom(images)
  # Four stride-2 stages: 28 x 20 -> 2 x 2 (ceil at each stage).
  assert x.shape == (3, 4, 16)
  assert mask.dtype == tf.bool and bool(tf.reduce_all(mask))
  assert [int(v) for v in context["spatial_shape"]] == [2, 2]


def test_image_bottom_sees_pixel_scale():
  """uint8 and float pixels of the same values give the same output."""
  net = modality_lib.create("image", tiny(), 0)
  pixels = np.random.RandomState(0).randint(0, 256, [1, 16, 16, 3])
  a, _, _ = net.bottom(tf.constant(pixels, tf.uint8))
  b, _, _ = net.bottom(tf.constant(pixels, tf.float32))
  np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_image_modality_has_no_target_side():
  net = modality_lib.create("image", tiny(), 0)
  with pytest.raises(NotImplementedError, match="input modality"):
    net.targets_bottom(tf.zeros([1, 1], tf.int32))


def test_class_label_top_and_bottom_shapes():
  net = modality_lib.create("class_label", tiny(), 7)
  assert not net.targets_are_sequence
  emb = net.targets_bottom(tf.constant([[3], [0]]))
  assert emb.shape == (2, 1, 16)
  x, mask, _ = net.bottom(tf.constant([1, 2]))
  assert x.shape == (2, 1, 16) and mask.shape == (2, 1)
  # The decoder's output for a label (S = 1) and an image-shaped output.
  assert net.top(tf.random.normal([2, 1, 16]),
                 context={"spatial_shape": (2, 3)}).shape == (2, 1, 7)
  assert net.top(tf.random.normal([2, 6, 16]),
                 context={"spatial_shape": (2, 3)}).shape == (2, 1, 7)
  assert net.top(tf.random.normal([2, 5, 16])).shape == (2, 1, 7)


def test_to_2d_uses_the_image_shape_only_when_it_fits():
  x = tf.reshape(tf.range(2 * 6 * 1, dtype=tf.float32), [2, 6, 1])
  assert class_label.to_2d(x, {"spatial_shape": (2, 3)}).shape == (2, 2, 3, 1)
  assert class_label.to_2d(x, {"spatial_shape": (4, 4)}).shape == (2, 6, 1, 1)
  assert class_label.to_2d(x, {}).shape == (2, 6, 1, 1)


def test_class_label_loss_counts_label_zero():
  net = modality_lib.create("class_label", tiny(), 4)
  logits = tf.constant([[[9.0, 0.0, 0.0, 0.0]], [[0.0, 0.0, 9.0, 0.0]]])
  targets = tf.constant([[0], [1]])
  total, count = net.loss(logits, targets)
  assert float(count) == 2.0
  z = np.log(np.exp(9.0) + 3.0)  # log of both rows' softmax denominator
  np.testing.assert_allclose(float(total), (z - 9.0) + z, rtol=1e-5)
  smooth, _ = net.loss(tf.constant([[[50.0, 0, 0, 0]]]), tf.constant([[0]]),
                       label_smoothing=0.1)
  assert float(smooth) > 0.0
  assert net.target_weights(targets).numpy().tolist() == [[1.0], [1.0]]


def test_top_k_accuracy():
  logits = tf.constant([[[0.1, 0.5, 0.4]], [[0.9, 0.05, 0.05]]])
  assert float(class_label.top_k_accuracy(logits, [[2], [0]], 1)) == 0.5
  assert float(class_label.top_k_accuracy(logits, [[2], [0]], 2)) == 1.0


def test_image_to_label_learns_a_toy_task():
  """Bright vs dark images: a few dozen Adam steps separate them."""
  tf.keras.utils.set_random_seed(0)
  hp = tiny()
  inp = modality_lib.create("image", hp, 0)
  out = modality_lib.create("class_label", hp, 2)
  rng = np.random.RandomState(0)
  labels = rng.randint(0, 2, [16])
  images = (labels[:, None, None, None] * 180 +
            rng.randint(0, 60, [16, 8, 8, 1])).astype(np.uint8)
  opt = tf.keras.optimizers.Adam(0.003)

  @tf.function
  def step():
    with tf.GradientTape() as tape:
      x, _, ctx = inp.bottom(tf.constant(images))
      logits = out.top(tf.reduce_mean(x, 1, keepdims=True), context=ctx)
      total, n = out.loss(logits, labels[:, None])
      loss = total / n
    variables = inp.trainable_variables + out.trainable_variables
    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss

  losses = [float(step()) for _ in range(40)]
  assert min(losses[-5:]) < 0.1
