"""Sparsely-gated mixture of experts: gates, balancing losses, dispatch."""
import numpy as np
import pytest
import tensorflow as tf

from t2tlite.layers import moe


def _random(shape, seed=0):
  return tf.constant(np.random.RandomState(seed).randn(*shape), tf.float32)


def _layer(num_experts=8, k=2, d=6, seed=0, **kwargs):
  layer = moe.MixtureOfExperts(d, 12, num_experts, k, **kwargs)
  layer(tf.zeros([1, 1, d]))
  # Non-zero gate weights so routing depends on the token.
  layer.gating.w_gate.assign(_random([d, num_experts], seed) * 2.0)
  layer.gating.w_noise.assign(_random([d, num_experts], seed + 1))
  return layer


@pytest.mark.parametrize("training", [False, True])
def test_each_gate_has_k_nonzero_entries_summing_to_one(training):
  gating = moe.NoisyTopKGating(8, 3)
  x = _random([50, 6])
  gating(x)
  gating.w_gate.assign(_random([6, 8], 1))
  indices, gates, _ = gating(x, training=training)
  dense = tf.reduce_sum(tf.one_hot(indices, 8) * gates[..., None], 1)
  np.testing.assert_array_equal(np.count_nonzero(dense, axis=1), 3)
  np.testing.assert_allclose(tf.reduce_sum(dense, 1), 1.0, atol=1e-6)


def test_zero_initialised_gate_still_picks_k_experts():
  gating = moe.NoisyTopKGating(4, 2)
  indices, gates, _ = gating(_random([5, 3]))
  assert indices.shape == (5, 2)
  np.testing.assert_allclose(gates, 0.5)


def test_balancing_losses_lower_for_balanced_than_collapsed_routing():
  x = tf.abs(_random([1, 200, 6]))  # positive features
  balanced = _layer(num_experts=8, k=2, seed=3)
  collapsed = _layer(num_experts=8, k=2, seed=3)
  w = np.zeros([6, 8], np.float32)
  w[:, :2] = 5.0  # every token prefers experts 0 and 1
  collapsed.gating.w_gate.assign(w)
  collapsed.gating.w_noise.assign(tf.zeros([6, 8]))
  _, bal, _ = balanced(x, training=True)
  _, col, stats = collapsed(x, training=True)
  assert stats["expert_tokens"].numpy()[:2].tolist() == [200, 200]
  assert bal["importance"] < col["importance"]
  assert bal["load"] < col["load"]
  assert moe.cv_squared(tf.ones([8])) < 1e-6


@pytest.mark.parametrize("k", [1, 2, 4])
def test_expert_compute_grows_with_k_not_with_num_experts(k):
  x = _random([2, 16, 6])
  processed = []
  for num_experts in (4, 16, 64):
    _, _, stats = _layer(num_experts, k)(x)
    processed.append(int(tf.reduce_sum(stats["expert_tokens"])))
  assert processed == [k * 32] * 3


def test_output_is_the_gate_weighted_sum_of_the_chosen_experts():
  layer = _layer(num_experts=5, k=2)
  x = _random([2, 7, 6], seed=4)
  y, _, _ = layer(x)
  tokens = tf.reshape(x, [-1, 6])
  indices, gates, _ = layer.gating(tokens)
  gate_matrix = tf.reduce_sum(tf.one_hot(indices, 5) * gates[..., None], 1)
  hidden = tf.nn.relu(tf.einsum("nd,edh->neh", tokens, layer.w_in) +
                      layer.b_in)
  every = tf.einsum("neh,ehd->ned", hidden, layer.w_out) + layer.b_out
  expected = tf.reduce_sum(every * gate_matrix[..., None], 1)
  np.testing.assert_allclose(tf.reshape(y, [-1, 6]), expected, atol=1e-4)


def test_padding_is_not_routed():
  layer = _layer()
  x = _random([2, 5, 6])
  valid = tf.constant([[True] * 5, [True, True, False, False, False]])
  y, _, stats = layer(x, valid)
  assert int(tf.reduce_sum(stats["expert_tokens"])) == 2 * 7
  np.testing.assert_array_equal(y[1, 2:], 0.0)


def test_capacity_drops_and_counts_overflow_in_training_only():
  layer = _layer(num_experts=4, k=1, capacity_factor=1.0)
  w = np.zeros([6, 4], np.float32)
  w[:, 0] = 5.0
  layer.gating.w_gate.assign(w)
  layer.gating.w_noise.assign(tf.zeros([6, 4]))
  x = tf.abs(_random([1, 40, 6]))
  _, _, stats = layer(x, training=True)
  kept = int(tf.reduce_sum(stats["expert_tokens"]))
  assert kept == 10  # capacity = ceil(1.0 * 1 * 40 / 4)
  assert int(stats["dropped_tokens"]) == 30
  _, _, stats = layer(x, training=False)
  assert int(stats["dropped_tokens"]) == 0


def test_capacity_queue_is_causal():
  layer = _layer(num_experts=4, k=2, capacity_factor=1.0)
  x = _random([3, 12, 6])
  tf.random.set_seed(0)
  y, _, _ = layer(x, training=True)
  changed = tf.concat([x[:, :6], _random([3, 6, 6], seed=9)], axis=1)
  tf.random.set_seed(0)
  y2, _, _ = layer(changed, training=True)
  np.testing.assert_allclose(y[:, :6], y2[:, :6], atol=1e-5)


def test_gradients_reach_gate_noise_and_experts():
  layer = _layer()
  x = _random([2, 8, 6])
  with tf.GradientTape() as tape:
    y, losses, _ = layer(x, training=True)
    loss = tf.reduce_sum(y ** 2) + losses["importance"] + losses["load"]
  grads = tape.gradient(loss, [layer.gating.w_gate, layer.gating.w_noise,
                               layer.w_in, layer.w_out])
  for g in grads:
    assert g is not None and float(tf.reduce_max(tf.abs(g))) > 0
