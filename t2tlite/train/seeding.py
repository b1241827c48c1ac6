"""The one place a training process seeds its random number generators.

`seed_everything(seed, deterministic)` seeds Python's, NumPy's and
TensorFlow's global generators (the model's initial weights come from the
last) and, with `deterministic`, turns on TensorFlow's op determinism: the
same losses run to run and across a resume, at some speed cost.

t2tlite-trainer calls it through `trainer.train`, after the distribution
strategy exists (a multi-worker strategy must configure TensorFlow first)
and before the model is built. A Trainer touches no global state: a
program that builds Trainers itself seeds them with this function.
"""


def seed_everything(seed, deterministic=False):
  import keras
  import tensorflow as tf
  if deterministic:
    tf.config.experimental.enable_op_determinism()
  tf.random.set_seed(int(seed))
  keras.utils.set_random_seed(int(seed))
