"""Sparsely-gated mixture of experts (Shazeer et al. 2017, arXiv 1701.06538).

y = sum_i G(x)_i E_i(x): each expert is a feed-forward net with one ReLU
hidden layer, and only the k experts a token's gate chooses compute for it.

Dispatch: the (token, choice) assignments are partitioned by expert
(tf.dynamic_partition), each expert runs one matmul over exactly its own
tokens, and the outputs are summed back per token weighted by the gate. So
expert compute is k * tokens * (2 * d * h) whatever the number of experts.

Capacity (GShard, arXiv 2006.16668): with `capacity_factor` > 0, in training
an expert takes at most ceil(capacity_factor * k * tokens / experts)
assignments; the rest are dropped (their gate weight is lost, the residual
path carries the token) and counted. Assignments queue in time-major order
(all batch rows at t before t + 1), so whether a token is dropped depends
only on earlier positions: a causal decoder stays causal. At inference no
assignment is dropped, so a one-position decoding step and a full pass agree.

Outputs of `call`: (y, losses, stats).
  losses: {"importance": w_imp * CV(Importance)^2, "load": w_load * CV(Load)^2}
  stats: {"expert_tokens": [E] int32 assignments each expert computed,
          "expert_routed": [E] int32 assignments the gate made to each
          expert, before the capacity drop (sums to k * routed_tokens),
          "routed_tokens": scalar int32 tokens routed (padding is not),
          "dropped_tokens": scalar int32, "max_load_ratio": the busiest
          expert's count over an even share} -- metrics, never minimised.
"""
import math

import keras
import tensorflow as tf

_EPS = 1e-10


def cv_squared(x):
  """Squared coefficient of variation var / mean^2 of a vector (0 if < 2)."""
  x = tf.cast(x, tf.float32)
  if x.shape[0] is not None and x.shape[0] < 2:
    return tf.zeros([])
  mean = tf.reduce_mean(x)
  return tf.math.reduce_variance(x) / (tf.square(mean) + _EPS)


def _normal_cdf(x):
  return 0.5 * (1.0 + tf.math.erf(x / math.sqrt(2.0)))


class NoisyTopKGating(keras.layers.Layer):
  """H(x)_i = (x W_g)_i + N(0,1) * Softplus((x W_noise)_i) (noise in training);
  G(x) = Softmax(KeepTopK(H(x), k)); W_g and W_noise start at zero."""

  # Routing stays float32 under mixed precision (model.set_precision): in
  # bfloat16 the top-k among near-equal gate logits and the load's normal
  # CDF would flip on rounding noise.
  keep_float32 = True

  def __init__(self, num_experts, k, noise=True, **kwargs):
    super().__init__(**kwargs)
    if not 1 <= k <= num_experts:
      raise ValueError(f"need 1 <= k <= num_experts, got k={k}, "
                       f"num_experts={num_experts}")
    self.num_experts, self.k, self.noise = num_experts, k, noise

  def build(self, input_shape):
    d = input_shape[-1]
    self.w_gate = self.add_weight(name="w_gate", shape=(d, self.num_experts),
                                  initializer="zeros")
    self.w_noise = self.add_weight(name="w_noise", shape=(d, self.num_experts),
                                   initializer="zeros")

  def call(self, x, training=False):
    """x [N, d] -> (top-k indices [N, k], gates [N, k], load [E] (float))."""
    x = tf.cast(x, tf.float32)
    clean = tf.matmul(x, self.w_gate)
    noisy_training = bool(training) and self.noise
    if noisy_training:
      stddev = tf.nn.softplus(tf.matmul(x, self.w_noise)) + 1e-2
      logits = clean + tf.random.normal(tf.shape(clean)) * stddev
    else:
      logits = clean
    # One more than k, for the threshold of the smooth load estimate below.
    kk = min(self.k + 1, self.num_experts)
    top_values, top_indices = tf.math.top_k(logits, kk)
    gates = tf.nn.softmax(top_values[:, :self.k], axis=-1)
    indices = top_indices[:, :self.k]
    if noisy_training and self.k < self.num_experts:
      load = self._smooth_load(clean, logits, stddev, top_values)
    else:  # no noise: the load is a count, with no gradient.
      load = tf.reduce_sum(tf.one_hot(indices, self.num_experts), [0, 1])
    return indices, gates, load

  def _smooth_load(self, clean, noisy, stddev, top_values):
    """Load_i = sum_x P(x, i), P(x, i) = Phi((clean_i - kth_excl(H, k, i)) /
    stddev_i): the chance that expert i stays in the top k under new noise."""
    kth_in = top_values[:, self.k:self.k + 1]   # threshold if i is chosen
    kth_out = top_values[:, self.k - 1:self.k]  # threshold if it is not
    chosen = noisy >= kth_out
    threshold = tf.where(chosen, kth_in, kth_out)
    return tf.reduce_sum(_normal_cdf((clean - threshold) / stddev), 0)

  def get_config(self):
    return {**super().get_config(), "num_experts": self.num_experts,
            "k": self.k, "noise": self.noise}


class MixtureOfExperts(keras.layers.Layer):
  """Noisy top-k gated experts over x [B, T, d] (see the module docstring)."""

  def __init__(self, hidden_size, expert_hidden_size, num_experts, k,
               noise=True, capacity_factor=0.0, importance_weight=0.01,
               load_weight=0.01, **kwargs):
    super().__init__(**kwargs)
    self.hidden_size, self.expert_hidden_size = hidden_size, expert_hidden_size
    self.num_experts, self.k, self.capacity_factor = (num_experts, k,
                                                      capacity_factor)
    self.importance_weight, self.load_weight = importance_weight, load_weight
    self.noise = noise
    self.gating = NoisyTopKGating(num_experts, k, noise, name="gating")

  def build(self, input_shape):
    d, h, e = input_shape[-1], self.expert_hidden_size, self.num_experts
    init = keras.initializers.VarianceScaling(1.0, "fan_in",
                                              "truncated_normal")
    self.w_in = self.add_weight(name="w_in", shape=(e, d, h), initializer=init)
    self.b_in = self.add_weight(name="b_in", shape=(e, h), initializer="zeros")
    self.w_out = self.add_weight(name="w_out", shape=(e, h, self.hidden_size),
                                 initializer=init)
    self.b_out = self.add_weight(name="b_out", shape=(e, self.hidden_size),
                                 initializer="zeros")

  def capacity(self, num_tokens):
    """Most assignments one expert takes in training (None: unlimited)."""
    if self.capacity_factor <= 0:
      return None
    per_expert = tf.cast(self.k * num_tokens, tf.float32) / self.num_experts
    return tf.cast(tf.math.ceil(self.capacity_factor * per_expert), tf.int32)

  def call(self, x, valid=None, training=False):
    """x [B, T, d], valid [B, T] (True = route; None = all) -> (y, losses,
    stats); padding is neither computed nor counted in the losses."""
    b, t = tf.shape(x)[0], tf.shape(x)[1]
    if valid is None:
      valid = tf.ones([b, t], tf.bool)
    # Time-major token order: the capacity queue must respect causality.
    flat = tf.reshape(tf.transpose(x, [1, 0, 2]), [-1, x.shape[-1]])
    routed = tf.reshape(tf.transpose(valid), [-1])
    token_ids = tf.cast(tf.where(routed)[:, 0], tf.int32)  # [N]
    tokens = tf.gather(flat, token_ids)
    indices, gates, load = self.gating(tokens, training=training)
    # Importance_i = sum_x G(x)_i; gates of each token sum to 1.
    importance = tf.reduce_sum(
        tf.one_hot(indices, self.num_experts) * gates[..., None], [0, 1])
    losses = {"importance": self.importance_weight * cv_squared(importance),
              "load": self.load_weight * cv_squared(load)}

    # Assignments, choice-major within a token: [N * k].
    expert = tf.reshape(indices, [-1])
    routed_counts = tf.math.bincount(expert, minlength=self.num_experts,
                                     maxlength=self.num_experts,
                                     dtype=tf.int32)
    gate = tf.reshape(gates, [-1])
    owner = tf.repeat(tf.range(tf.shape(tokens)[0]), self.k)
    keep = tf.ones_like(expert, tf.bool)
    cap = self.capacity(tf.shape(tokens)[0]) if training else None
    if cap is not None:
      onehot = tf.one_hot(expert, self.num_experts, dtype=tf.int32)
      position = tf.reduce_sum(tf.cumsum(onehot, axis=0, exclusive=True) *
                               onehot, axis=1)
      keep = position < cap
    dropped = tf.reduce_sum(tf.cast(tf.logical_not(keep), tf.int32))
    expert = tf.where(keep, expert, self.num_experts)  # extra bin: dropped

    parts = tf.dynamic_partition(tf.range(tf.size(expert)), expert,
                                 self.num_experts + 1)
    # Unstacked once: slicing a variable per expert would make each
    # expert's gradient a dense [E, ...] tensor (E^2 work in backprop).
    w_in, b_in, w_out, b_out = (
        tf.unstack(tf.cast(w, x.dtype))
        for w in (self.w_in, self.b_in, self.w_out, self.b_out))
    outputs, counts = [], []
    for i in range(self.num_experts):
      rows = parts[i]
      inp = tf.gather(tokens, tf.gather(owner, rows))
      hid = tf.nn.relu(tf.matmul(inp, w_in[i]) + b_in[i])
      out = tf.matmul(hid, w_out[i]) + b_out[i]
      outputs.append(out * tf.cast(tf.gather(gate, rows), out.dtype)[:, None])
      counts.append(tf.size(rows))
    rows = tf.concat(parts[:self.num_experts], 0)
    combined = tf.math.unsorted_segment_sum(
        tf.concat(outputs, 0), tf.gather(owner, rows), tf.shape(tokens)[0])
    y = tf.scatter_nd(token_ids[:, None], combined,
                      tf.shape(flat, out_type=tf.int32))
    y = tf.transpose(tf.reshape(y, [t, b, self.hidden_size]), [1, 0, 2])
    counts = tf.stack(counts)
    # Busiest expert's share over an even share: 1.0 is perfect balance.
    imbalance = tf.cast(tf.reduce_max(counts), tf.float32) * (
        self.num_experts / tf.maximum(tf.cast(tf.reduce_sum(counts),
                                              tf.float32), 1.0))
    stats = {"expert_tokens": counts, "expert_routed": routed_counts,
             "routed_tokens": tf.shape(tokens)[0],
             "dropped_tokens": dropped, "max_load_ratio": imbalance}
    return tf.cast(y, x.dtype), losses, stats

  def get_config(self):
    return {**super().get_config(), "hidden_size": self.hidden_size,
            "expert_hidden_size": self.expert_hidden_size,
            "num_experts": self.num_experts, "k": self.k,
            "noise": self.noise, "capacity_factor": self.capacity_factor,
            "importance_weight": self.importance_weight,
            "load_weight": self.load_weight}


def moe_flops(num_tokens, hidden_size, expert_hidden_size, num_experts, k):
  """Forward multiply-adds x 2: the gate (clean and noisy) and k experts."""
  gate = 2 * 2 * num_tokens * hidden_size * num_experts
  experts = 2 * num_tokens * k * 2 * hidden_size * expert_hidden_size
  return gate + experts
