"""What the trainer writes besides checkpoints: log-line formats and the
TensorBoard summaries of its train steps (means of scalars, exact
per-index count histograms such as the MoE's per-expert load)."""
import numpy as np
import tensorflow as tf


def format_duration(seconds):
  """3725 -> '1h02m', 185 -> '3m05s', 42.3 -> '42s' (for log lines)."""
  if seconds is None or seconds != seconds or seconds == float("inf"):
    return "?"
  s = int(round(max(seconds, 0)))
  if s >= 3600:
    return f"{s // 3600}h{s % 3600 // 60:02d}m"
  if s >= 60:
    return f"{s // 60}m{s % 60:02d}s"
  return f"{s}s"


def parameter_count(model):
  """'12,345,678' (for log lines), '?' if the model cannot say."""
  try:
    count = sum(int(np.prod(tuple(v.shape)))
                for v in model.trainable_variables)
  except Exception:  # pylint: disable=broad-except
    return "?"
  return f"{count:,}"


def is_number(v):
  return isinstance(v, (int, float, np.integer, np.floating)) and not (
      isinstance(v, (bool, np.bool_)))


def write_count_histogram(tag, counts, step=None, description=None):
  """A TensorBoard histogram of exact counts, one bucket per index: bucket
  i spans [i, i + 1) and holds counts[i] (for an MoE layer, the tokens
  routed to expert i), so the buckets sum to the counts' total.
  tf.summary.histogram would re-bin values instead, and an expert that
  gets nothing would shift every edge."""
  # pylint: disable=import-outside-toplevel
  from tensorboard.plugins.histogram import metadata as histogram_metadata
  counts = np.asarray(counts, np.float64).reshape(-1)
  left = np.arange(len(counts), dtype=np.float64)
  buckets = np.stack([left, left + 1.0, counts], axis=1)
  return tf.summary.write(
      tag, tf.constant(buckets), step=step,
      metadata=histogram_metadata.create_summary_metadata(
          display_name=None, description=description))


def train_summaries(outputs):
  """What a log step writes of one problem's train-step outputs since the
  last log line: (scalars, histograms). Scalars (loss, total_loss,
  grad_norm, the MoE's losses and scalar stats, ...) are means over those
  steps; vector outputs (the MoE's per-expert counts) are summed over them.
  The step's bookkeeping (finite, tokens) and the learning rate (one for
  every problem) are not in them."""
  scalars, histograms = {}, {}
  for key in outputs[0]:
    if key in ("finite", "tokens", "learning_rate"):
      continue
    values = np.stack([np.asarray(o[key], np.float64) for o in outputs])
    if values.ndim == 1:
      scalars[key] = float(values.mean())
    elif values.ndim == 2:
      histograms[key] = values.sum(axis=0)
  return scalars, histograms
