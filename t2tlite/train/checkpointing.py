"""How a Trainer saves and resumes: its checkpoint, the newest complete
one restored (broken ones skipped), and input streams that resume exactly
or, when their saved state does not fit, skip ahead to the step.

A mixin of trainer.Trainer, which owns the model, optimizer, step,
streams, strategy and output_dir these methods use.
"""
import logging

import tensorflow as tf

from t2tlite import model as model_lib
from t2tlite.train import distribute

log = logging.getLogger("t2tlite")


class Checkpointing:
  """Checkpoint and resume (see the module docstring)."""

  def _make_checkpoint(self):
    # One device: the streams' positions are saved too. A distributed run
    # saves none (see distribute.py); its streams skip ahead on resume.
    streams = {} if self.strategy else {
        f"stream_{i}": self.streams[n] for i, n in enumerate(self.names)}
    # An older run keeps the variable keys its checkpoints were written with.
    self.checkpoint = tf.train.Checkpoint(
        model=model_lib.variable_map(
            self.model, tf.train.latest_checkpoint(self.output_dir)),
        optimizer=self.optimizer, step=self.step, **streams)
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, self.output_dir, max_to_keep=self._keep_checkpoints)

  def _skip_streams_to_step(self):
    """New streams positioned after the batches of the first `step` steps."""
    done = distribute.steps_per_problem(self.mixer, self.names,
                                        int(self.step))
    for i, p in enumerate(self.problems):
      if self.strategy is None:
        self.streams[p.name] = self._local_stream(i, p, done[p.name])
      else:
        self.streams[p.name] = distribute.stream(
            self.strategy, p, self.data_dir,
            distribute.per_replica_hparams(self.hparams,
                                           self.placement.num_replicas),
            self.run.seed + i, done[p.name])

  def _restore(self):
    """Restores the newest complete checkpoint, skipping broken ones."""
    for path in reversed(self.manager.checkpoints):
      try:
        if self.strategy is None and not any(
            k.startswith("stream_0/") for k, _ in
            tf.train.list_variables(path)):
          return self._restore_without_streams(path)
        self.checkpoint.restore(path).assert_existing_objects_matched()
        log.info("resumed from %s at step %d", path, int(self.step))
        return path
      except Exception as e:  # pylint: disable=broad-except
        if self.strategy is None and self._restore_streams_differ(path, e):
          return path
        # A truncated file raises OpError, IndexError or ValueError
        # depending on where it was cut: any failure means "not complete".
        log.warning("checkpoint %s is unreadable (%s); trying the one "
                    "before", path, str(e).splitlines()[0][:200])
    return None

  def _restore_streams_differ(self, path, error):
    """A checkpoint whose model restores but whose input-stream state does
    not (written by a version whose pipeline was built differently): it
    resumes with streams skipped ahead, rather than from step 0."""
    try:
      self._restore_without_streams(path)
    except Exception:  # pylint: disable=broad-except
      return False
    log.warning("checkpoint %s: its input-stream state does not fit this "
                "version's input pipeline (%s); the streams skipped ahead "
                "instead", path, str(error).splitlines()[0][:200])
    return True

  def _restore_without_streams(self, path):
    """One device resuming a distributed run's checkpoint (no input state):
    the streams skip ahead to its step."""
    tf.train.Checkpoint(
        model=model_lib.variable_map(self.model, path),
        optimizer=self.optimizer, step=self.step).restore(
            path).assert_existing_objects_matched()
    self._skip_streams_to_step()
    self._make_checkpoint()
    log.info("resumed from %s at step %d (input streams skipped ahead)",
             path, int(self.step))
    return path

  def save(self):
    if not self.is_chief:  # nothing to save that the chief does not
      return None
    path = self.manager.save(checkpoint_number=int(self.step))
    log.info("saved %s", path)
    return path
