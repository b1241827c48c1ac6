"""The compiled steps the trainer runs: one problem's loss, its train step
(gradients, clipping, a skipped update when anything is non-finite) and its
eval step (loss, accuracy and top-5 sums over a batch).

Library functions of (model, optimizer, hparams, problem name): the trainer
makes one of each per problem, and benchmarks time the very same steps.
"""
import tensorflow as tf

from t2tlite import configs
from t2tlite.train import distribute
from t2tlite.train import optimization


def dense_gradients(grads):
  """Embedding gradients as dense tensors.

  Keras 3's Adam squares each slice of a sparse gradient before summing
  repeated rows (sum of squares, not square of the sum), and global_norm of
  such slices is not the norm of the gradient; every row of the task-token
  lookup repeats in a batch. Dense gradients give the true update.
  """
  return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
          for g in grads]


def is_stat(name):
  """Aux outputs named moe_stat_* are logged, never added to the loss."""
  return "_stat_" in name or name.startswith("stat_")


def problem_loss(model, name, features, training, label_smoothing=0.0):
  """(logits, targets, aux, summed loss, summed weight) of one batch."""
  logits, aux = model(features, problem=name, training=training)
  target_mod = model.target_modality(name)
  targets = features["targets"]
  if not target_mod.targets_are_sequence:
    targets = tf.reshape(targets, [-1, 1])
  smoothing = label_smoothing if training else 0.0
  loss_sum, weight = target_mod.loss(logits, targets, smoothing)
  return logits, targets, aux, loss_sum, weight


def _aux_losses(aux):
  return [tf.cast(v, tf.float32) for k, v in aux.items() if not is_stat(k)]


def learning_rate(optimizer):
  """The rate this step's update uses (read before apply_gradients moves
  the optimiser's iteration count), as a float32 scalar."""
  return tf.cast(tf.convert_to_tensor(optimizer.learning_rate), tf.float32)


def train_step(model, optimizer, hparams, name, signature, scale=1.0):
  """One problem's compiled train step on one device: features -> a dict
  of loss, total_loss, tokens, grad_norm (global, before clipping),
  learning_rate, finite and the aux outputs (the MoE's per-expert counts
  among them). The trainer turns these into TensorBoard summaries at its
  log steps only, so the step itself writes nothing.
  hparams.jit_compile compiles it with XLA (once per batch shape)."""
  hp = hparams

  @tf.function(input_signature=[signature],
               jit_compile=configs.run_config(hp).jit_compile)
  def step(features):
    with tf.GradientTape() as tape:
      _, _, aux, loss_sum, weight = problem_loss(
          model, name, features, True, hp.label_smoothing)
      loss = loss_sum / tf.maximum(weight, 1.0)
      extra = _aux_losses(aux)
      total = scale * (loss + (tf.add_n(extra) if extra else 0.0))
    train_vars = model.trainable_variables
    grads = tape.gradient(total, train_vars)
    # Only the variables this problem uses get an update: another
    # modality's net must not drift on stale Adam moments.
    pairs = [(g, v) for g, v in zip(grads, train_vars) if g is not None]
    grads = dense_gradients([g for g, _ in pairs])
    lr = learning_rate(optimizer)
    norm, finite = optimization.apply_update(
        optimizer, grads, [v for _, v in pairs], total, hp.clip_grad_norm)
    out = {"loss": loss, "total_loss": total, "tokens": weight,
           "grad_norm": norm, "learning_rate": lr, "finite": finite}
    out.update({k: tf.cast(v, tf.float32) for k, v in aux.items()})
    return out

  return step


def distributed_train_step(strategy, model, optimizer, hparams, name,
                           scale=1.0):
  """The same step all-reduced over a strategy's replicas (its outputs
  too; the MoE's counts are averaged over the replicas)."""
  def loss_fn(features):
    _, _, aux, loss_sum, weight = problem_loss(
        model, name, features, True, hparams.label_smoothing)
    aux32 = {k: tf.cast(v, tf.float32) for k, v in aux.items()}
    # Read before the update, as on one device; the same on every replica,
    # so the all-reduced mean of the aux outputs carries it unchanged.
    aux32["learning_rate"] = learning_rate(optimizer)
    return loss_sum, weight, _aux_losses(aux), aux32, scale

  return distribute.train_step(strategy, loss_fn, model, optimizer,
                               hparams.clip_grad_norm)


def eval_step(model, name, signature):
  """One problem's compiled eval step: features -> summed loss, weight,
  correct and top-5 counts (no label smoothing)."""
  @tf.function(input_signature=[signature])
  def step(features):
    logits, targets, _, loss_sum, weight = problem_loss(model, name,
                                                        features, False)
    w = model.target_modality(name).target_weights(targets)
    targets = tf.cast(targets, tf.int32)
    preds = tf.argmax(logits, axis=-1, output_type=tf.int32)
    correct = tf.reduce_sum(tf.cast(tf.equal(preds, targets), tf.float32) * w)
    k = tf.minimum(5, tf.shape(logits)[-1])
    top = tf.math.top_k(logits, k=k).indices
    in_top = tf.reduce_any(tf.equal(top, targets[..., None]), axis=-1)
    top5 = tf.reduce_sum(tf.cast(in_top, tf.float32) * w)
    return {"loss_sum": loss_sum, "weight": weight, "correct": correct,
            "top5": top5}

  return step
