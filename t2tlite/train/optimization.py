"""Learning-rate schedules and the optimiser the trainer uses."""
import keras
import tensorflow as tf


class RsqrtDecay(keras.optimizers.schedules.LearningRateSchedule):
  """Linear warmup, then inverse-square-root decay (Vaswani et al.).

  lr(step) = scale * hidden^-0.5 * min(step / warmup^1.5, step^-0.5)
  """

  def __init__(self, scale, hidden_size, warmup_steps):
    self.scale, self.hidden_size, self.warmup_steps = (scale, hidden_size,
                                                       warmup_steps)

  def __call__(self, step):
    step = tf.cast(step, tf.float32) + 1.0
    warm = float(max(self.warmup_steps, 1))
    return (self.scale * self.hidden_size ** -0.5 *
            tf.minimum(step * warm ** -1.5, tf.math.rsqrt(step)))

  def get_config(self):
    return {"scale": self.scale, "hidden_size": self.hidden_size,
            "warmup_steps": self.warmup_steps}


class ConstantWithWarmup(keras.optimizers.schedules.LearningRateSchedule):
  """Linear warmup to a constant rate."""

  def __init__(self, rate, warmup_steps):
    self.rate, self.warmup_steps = rate, warmup_steps

  def __call__(self, step):
    step = tf.cast(step, tf.float32) + 1.0
    return self.rate * tf.minimum(1.0, step / float(max(self.warmup_steps,
                                                        1)))

  def get_config(self):
    return {"rate": self.rate, "warmup_steps": self.warmup_steps}


def learning_rate(hparams):
  if hparams.learning_rate_schedule == "rsqrt_decay":
    return RsqrtDecay(hparams.learning_rate, hparams.hidden_size,
                      hparams.warmup_steps)
  if hparams.learning_rate_schedule == "constant":
    return ConstantWithWarmup(hparams.learning_rate, hparams.warmup_steps)
  raise ValueError(f"unknown learning_rate_schedule "
                   f"'{hparams.learning_rate_schedule}' (rsqrt_decay or "
                   "constant)")


def optimizer(hparams):
  return keras.optimizers.Adam(
      learning_rate=learning_rate(hparams), beta_1=hparams.adam_beta1,
      beta_2=hparams.adam_beta2, epsilon=hparams.adam_epsilon)


def apply_update(optimizer_, grads, variables, total_loss, clip_grad_norm):
  """The update rule every train step shares (one device or a strategy's
  all-reduced gradients): the global gradient norm before clipping, a
  finiteness test of the loss and that norm, clipping to clip_grad_norm
  (0: none), and an update applied only when everything was finite (a
  non-finite step leaves weights and Adam moments untouched).
  Returns (norm, finite)."""
  norm = tf.linalg.global_norm(grads)
  finite = tf.math.is_finite(total_loss) & tf.math.is_finite(norm)
  if clip_grad_norm > 0:
    grads, _ = tf.clip_by_global_norm(grads, clip_grad_norm, use_norm=norm)

  def apply():
    optimizer_.apply_gradients(zip(grads, variables))
    return tf.constant(True)

  tf.cond(finite, apply, lambda: tf.constant(False))
  return norm, finite
