"""Learning-rate schedules and the optimiser the trainer uses."""
import keras
import tensorflow as tf

from t2tlite import hparams_lib


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


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
  """Linear warmup to the peak RsqrtDecay reaches at the end of its warmup
  (scale * hidden^-0.5 * warmup^-0.5, so `learning_rate` means the same
  under both), then a straight line down to 0 at step `total_steps`;
  0 after it. For a run of known length: annealing to zero ends a short
  run at a lower loss than rsqrt's long tail."""

  def __init__(self, scale, hidden_size, warmup_steps, total_steps):
    if total_steps <= warmup_steps:
      raise hparams_lib.HParamsError(f"linear_decay needs learning_rate_decay_steps "
                       f"({total_steps}) > warmup_steps ({warmup_steps})")
    self.scale, self.hidden_size = scale, hidden_size
    self.warmup_steps, self.total_steps = warmup_steps, total_steps

  def __call__(self, step):
    step = tf.cast(step, tf.float32) + 1.0
    warm, total = float(max(self.warmup_steps, 1)), float(self.total_steps)
    peak = self.scale * self.hidden_size ** -0.5 * warm ** -0.5
    up = step / warm
    down = (total - step) / (total - warm)
    return peak * tf.maximum(0.0, tf.minimum(up, down))

  def get_config(self):
    return {"scale": self.scale, "hidden_size": self.hidden_size,
            "warmup_steps": self.warmup_steps,
            "total_steps": self.total_steps}


def learning_rate(hparams):
  if hparams.learning_rate_schedule == "linear_decay":
    return LinearDecay(hparams.learning_rate, hparams.hidden_size,
                       hparams.warmup_steps, hparams.learning_rate_decay_steps)
  if hparams.learning_rate_schedule == "rsqrt_decay":
    return RsqrtDecay(hparams.learning_rate, hparams.hidden_size,
                      hparams.warmup_steps)
  if hparams.learning_rate_schedule == "constant":
    return ConstantWithWarmup(hparams.learning_rate, hparams.warmup_steps)
  raise hparams_lib.HParamsError(
      f"unknown learning_rate_schedule '{hparams.learning_rate_schedule}' "
      "(rsqrt_decay, linear_decay or constant)")


def check_steps(hparams, train_steps):
  """A linear_decay run must stop where its rate reaches 0: steps after
  learning_rate_decay_steps would change nothing, and a run stopped
  before it would never anneal."""
  if (hparams.learning_rate_schedule == "linear_decay" and
      train_steps != hparams.learning_rate_decay_steps):
    raise hparams_lib.HParamsError(
        f"learning_rate_schedule=linear_decay reaches 0 at "
        f"learning_rate_decay_steps={hparams.learning_rate_decay_steps}, "
        f"but train_steps={train_steps}: set them equal")


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
