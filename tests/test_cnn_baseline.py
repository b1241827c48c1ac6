"""benchmarks/image_cnn_baseline.py: the reference CNN's dev curve scores
exactly the first --eval_limit images, as the framework's curves do."""
import importlib.util
import os

import numpy as np
import tensorflow as tf

PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))), "benchmarks", "image_cnn_baseline.py")
spec = importlib.util.spec_from_file_location("image_cnn_baseline", PATH)
baseline = importlib.util.module_from_spec(spec)
spec.loader.exec_module(baseline)


class Oracle:
  """Predicts class 1 for every image of a batch: right where the label is 1."""

  def predict_on_batch(self, x):
    return np.tile([[0.0, 1.0]], [len(x), 1])


def batches(labels, size):
  labels = np.asarray(labels)
  chunks = [labels[i:i + size] for i in range(0, len(labels), size)]
  return [(tf.zeros([len(c), 2]), tf.constant(c)) for c in chunks]


def test_counts_stop_at_the_limit_inside_a_batch():
  data = batches([1, 1, 0, 1, 0, 0, 1], size=3)
  assert baseline.counts(Oracle(), data) == (4, 7)
  assert baseline.counts(Oracle(), data, limit=4) == (3, 4)
  assert baseline.counts(Oracle(), data, limit=2) == (2, 2)
  assert baseline.accuracy(Oracle(), data, 5) == 0.6
