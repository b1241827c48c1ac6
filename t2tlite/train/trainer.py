"""The training loop (the library behind t2tlite-trainer).

Each step trains one problem's batch, chosen by a Mixer; every problem has
its own compiled step for its feature shapes, sharing all variables.
Checkpoints hold the model, the optimiser, the step and each problem's
input-stream position, so a resumed run continues exactly where it stopped.
Under tf.distribute (see t2tlite/train/distribute.py) the step is all-reduced over
replicas, only the chief writes, and the streams skip ahead on resume.
"""
import json
import logging
import os
import time

import tensorflow as tf

from t2tlite import configs
from t2tlite.data import problem as problem_lib
from t2tlite.data import pipeline
from t2tlite.data import data_io
from t2tlite.train import checkpointing
from t2tlite.train import distribute
from t2tlite import errors
from t2tlite.train import mixing as mixing_lib
from t2tlite import model as model_lib
from t2tlite.train import optimization
from t2tlite import registry
from t2tlite.train import run_config
from t2tlite.train import seeding
from t2tlite.train import summaries
from t2tlite.train import train_steps
from t2tlite.train import warm_start

log = logging.getLogger("t2tlite")


class TrainingError(errors.RunFailed):
  """Training cannot go on (e.g. the loss stays non-finite)."""


# What a collective op raises when a peer worker has died or restarted.
LOST_WORKER = (tf.errors.UnavailableError, tf.errors.AbortedError,
               tf.errors.CancelledError, tf.errors.DeadlineExceededError)


def _reason(error):
  """The line of a collective op's error that says what happened."""
  lines = [l.strip() for l in str(error).splitlines() if l.strip()]
  for line in lines:
    if "aborted by" in line or "connect" in line.lower():
      return line[:200]
  return type(error).__name__


def relaxed_signature(element_spec):
  """Every dimension unknown: one trace serves every batch shape."""
  return tf.nest.map_structure(
      lambda s: tf.TensorSpec([None] * s.shape.rank, s.dtype), element_spec)


def check_precision_settings(hparams, strategy=None, model_cls=None):
  """ValueError for a mixed_precision or jit_compile value the trainer
  cannot honour (with this model class, when given)."""
  run = configs.run_config(hparams)
  model_lib.dtype_policy_name(run.mixed_precision)
  jit = run.jit_compile
  if not isinstance(jit, bool):
    raise ValueError(f"jit_compile must be True or False, got {jit!r}")
  if jit and strategy is not None:
    raise ValueError("jit_compile=True compiles the one-device train step; "
                     "it is not supported with a distribution strategy")
  reason = model_cls.cannot_jit(hparams) if model_cls else None
  if jit and reason:
    raise ValueError(f"jit_compile=True: {reason}")


class Trainer(checkpointing.Checkpointing):
  """Builds the model, data streams and checkpoint for one output_dir."""

  def __init__(self, problems, model, hparams_set, hparams, data_dir,
               output_dir, mixing="round_robin", loss_weights=None,
               rate_caps=None, keep_checkpoints=5, strategy=None,
               warm_start_from=None):
    # strategy: a tf.distribute strategy; None: one device, the plain path.
    # warm_start_from: another run's output_dir whose model this run
    # starts from when it has no checkpoint of its own (t2tlite/warm_start).
    self.started = time.time()  # eval records carry the wall time since
    # Before any slow setup.
    check_precision_settings(hparams, strategy, registry.model(model))
    self.strategy = strategy
    self.placement = distribute.placement(strategy)
    self.is_chief = self.placement.is_chief
    self.problems = [registry.problem(p) if isinstance(p, str) else p
                     for p in problems]
    names = [p.name for p in self.problems]
    if len(set(names)) != len(names):
      raise ValueError(f"a problem is listed twice in {'-'.join(names)}")
    self.names = names
    self.model_name, self.hparams = model, hparams
    self.run = configs.run_config(hparams)  # seed, precision, XLA, non-finite
    self.data_dir, self.output_dir = data_dir, output_dir
    self.loss_weights = dict(loss_weights or {})
    for p in self.problems:
      pipeline.shard_files(p, data_dir, "train")  # fails early, naming datagen
    sizes = {p.name: pipeline.num_examples(p, data_dir, "train")
             for p in self.problems}
    self.mixer = mixing_lib.parse(mixing, names, sizes, rate_caps)
    self.mixer.seed = self.run.seed
    self.specs = [problem_lib.spec(p, data_dir) for p in self.problems]
    existing = run_config.read(output_dir)
    if warm_start_from and not existing:  # before anything is written
      warm_start.check_source(warm_start_from, model, output_dir)
    if existing:
      run_config.check_resume(existing, model, hparams, self.problems,
                              self.specs)
      # Resuming builds the model the run was built as (see same_spec).
      old_specs = {s.name: s for s in existing["specs"]}
      self.specs = [old_specs[s.name] for s in self.specs]
    if self.is_chief:
      run_config.write(output_dir, model, hparams_set, hparams,
                       self.problems, self.specs, data_dir)
    # Under a strategy every variable is created in its scope (mirrored).
    with distribute.scope(strategy):
      self.model = registry.model(model)(hparams, self.specs)
      # bfloat16 compute on float32 variables; the optimiser's state
      # follows the variables, so it stays float32 too.
      model_lib.set_precision(self.model, self.run.mixed_precision)
      self.optimizer = optimization.optimizer(hparams)
    self.step = tf.Variable(0, dtype=tf.int64, name="global_step")
    self.streams = {}
    for i, p in enumerate(self.problems):
      if strategy is None:
        self.streams[p.name] = self._local_stream(i, p, 0)
      else:
        distribute.check_shards(p, data_dir, self.placement.num_workers)
      self._log_dropped(p)
    log.info("building the model on %d problem%s (%s)...",
             len(names), "" if len(names) == 1 else "s", ", ".join(names))
    built = time.time()
    with distribute.scope(strategy):
      self._build()
    log.info("built %s in %.1fs: %s trainable parameters", model,
             time.time() - built, summaries.parameter_count(self.model))
    self._keep_checkpoints = keep_checkpoints
    self._make_checkpoint()
    self.restored_from = self._restore()
    self.warm_started_from = None
    if warm_start_from and self.restored_from is None:
      self.warm_started_from = warm_start.warm_start_trainer(
          self, warm_start_from, created_config=existing is None)
    elif warm_start_from:
      log.info("--warm_start_from=%s ignored: resuming this run's own "
               "checkpoint", warm_start_from)
    if strategy is not None:
      # Distributed iterators are not checkpointed: skip ahead instead.
      distribute.agreed_step(strategy, int(self.step))
      self._skip_streams_to_step()
    self._train_steps = {n: self._make_train_step(n) for n in names}
    self._eval_steps = {n: train_steps.eval_step(self.model, n,
                                                 self.signatures[n])
                        for n in names}
    if self.is_chief:
      self.train_writer = tf.summary.create_file_writer(
          os.path.join(output_dir, "train"))
      self.eval_writer = tf.summary.create_file_writer(
          os.path.join(output_dir, "eval"))
    else:  # only the chief writes summaries
      self.train_writer = self.eval_writer = tf.summary.create_noop_writer()

  # --- setup ----------------------------------------------------------------
  def _local_stream(self, i, p, skip):
    ds = pipeline.batched(p, self.data_dir, "train", self.hparams,
                          training=True, seed=self.run.seed + i)
    if skip:
      ds = ds.skip(skip)
    return iter(ds.prefetch(2))

  def _log_dropped(self, p):
    max_len = configs.data_config(self.hparams).max_length
    dropped = pipeline.dropped_by_length(p, self.data_dir, "train", max_len)
    total = pipeline.num_examples(p, self.data_dir, "train")
    if dropped:
      log.info("%s: max_length=%d drops %d of %s training examples",
               p.name, max_len, dropped, total)
    if total is not None and dropped >= total:
      raise data_io.DataError(
          f"{p.name}: every training example is longer than max_length="
          f"{max_len}; raise it with --hparams=max_length=N")

  def _eval_batches(self, problem):
    return pipeline.batched(problem, self.data_dir, "dev", self.hparams,
                            training=False)

  def _build(self):
    """Creates every variable (one forward pass per problem on dev data)."""
    self.signatures = {}
    for p in self.problems:
      ds = self._eval_batches(p)
      self.signatures[p.name] = relaxed_signature(ds.element_spec)
      batch = next(iter(ds.take(1)), None)
      if batch is None:
        raise data_io.DataError(f"{p.name}: the dev split is empty")
      self.model(batch, problem=p.name, training=False)
    self.optimizer.build(self.model.trainable_variables)

  # --- compiled steps -------------------------------------------------------
  def _make_train_step(self, name):
    scale = float(self.loss_weights.get(name, 1.0))
    if self.strategy is not None:
      return train_steps.distributed_train_step(
          self.strategy, self.model, self.optimizer, self.hparams, name,
          scale)
    return train_steps.train_step(self.model, self.optimizer, self.hparams,
                                  name, self.signatures[name], scale)

  # --- loop -----------------------------------------------------------------
  def evaluate(self, eval_steps):
    """Loss, accuracy and log-perplexity per problem on its dev split."""
    results = {}
    for p in self.problems:
      fn = self._eval_steps[p.name]
      sums = {"loss_sum": 0.0, "weight": 0.0, "correct": 0.0, "top5": 0.0}
      try:
        for i, batch in enumerate(self._eval_batches(p)):
          if eval_steps and i >= eval_steps:
            break
          out = fn(batch)
          for k in sums:
            sums[k] += float(out[k])
      except tf.errors.DataLossError:
        raise data_io.find_corrupt(
            pipeline.shard_files(p, self.data_dir, "dev")) or (
            data_io.DataError(f"{p.name}: corrupt dev data"))
      w = max(sums["weight"], 1.0)
      metrics = {"loss": sums["loss_sum"] / w,
                 "accuracy": sums["correct"] / w,
                 "log_perplexity": sums["loss_sum"] / w,
                 "eval_tokens": sums["weight"]}
      if not self.model.target_modality(p.name).targets_are_sequence:
        metrics["top5_accuracy"] = sums["top5"] / w
      results[p.name] = metrics
    return results

  def _write_eval(self, step, results, extra=None):
    path = os.path.join(self.output_dir, "eval.jsonl")
    with open(path, "a") as f:
      for name, metrics in results.items():
        f.write(json.dumps({"step": step, "problem": name,
                            "wall_s": round(time.time() - self.started, 1),
                            **metrics,
                            **((extra or {}).get(name, {}))}) + "\n")
    with self.eval_writer.as_default(step=step):
      for name, metrics in results.items():
        # The after_eval hook's figures too (decoded_bleu, decoded_wer, ...).
        for k, v in {**metrics, **((extra or {}).get(name, {}))}.items():
          if summaries.is_number(v):
            tf.summary.scalar(f"{name}/{k}", v)
    self.eval_writer.flush()

  def _write_train_summaries(self, step, pending, learning_rate):
    """At a log step: each problem's train summaries since the last log
    line (see train_summaries) and the learning rate; `pending` maps a
    problem to its steps' outputs and is emptied."""
    with self.train_writer.as_default(step=step):
      if learning_rate is not None:
        tf.summary.scalar("learning_rate", float(learning_rate))
      for name, outputs in pending.items():
        if not outputs:
          continue
        scalars, histograms = summaries.train_summaries(outputs)
        for k, v in scalars.items():
          tf.summary.scalar(f"{name}/{k}", v)
        for k, v in histograms.items():
          summaries.write_count_histogram(
              f"{name}/{k}", v, description=f"{k} per index, summed over "
              f"the {len(outputs)} steps of {name} since the last log")
        outputs.clear()
    self.train_writer.flush()

  def train(self, train_steps, eval_every=1000, eval_steps=50, log_every=100,
            after_eval=None):
    """Trains up to `train_steps` (a total, so a resumed run stops there)."""
    optimization.check_steps(self.hparams, train_steps)
    start_step = int(self.step)
    # Every step's loss; a resumed run appends the steps it redoes, so a
    # reader keeps the last line of each step.
    self._loss_log = open(os.path.join(self.output_dir, "train_loss.jsonl")
                          if self.is_chief else os.devnull, "a")
    if start_step >= train_steps:
      log.info("already trained to step %d >= train_steps=%d", start_step,
               train_steps)
    last = {"time": time.time(), "step": start_step, "tokens": 0.0}
    counts = {n: 0 for n in self.names}
    bad_in_row = 0
    skipped = 0
    results = {}
    history = []
    first_log = None  # (time, step) of this process's first log line
    # Each problem's step outputs since the last log line: tensors the
    # compiled step returned, turned into summaries only at log steps.
    pending = {n: [] for n in self.names}
    while int(self.step) < train_steps:
      step = int(self.step)
      name = self.mixer.choose(step)
      if counts[name] == 0:  # its first step traces (compiles) it
        log.info("tracing the train step of %s...", name)
        traced = time.time()
      try:
        if self.strategy is None:
          out = self._train_steps[name](next(self.streams[name]))
        else:  # the distributed step takes its batches from the iterator
          out = self._train_steps[name](self.streams[name])
      except tf.errors.DataLossError:
        p = self.problems[self.names.index(name)]
        raise data_io.find_corrupt(
            pipeline.shard_files(p, self.data_dir, "train")) or (
            data_io.DataError(f"{name}: corrupt training data"))
      except LOST_WORKER as e:
        if self.strategy is None:
          raise
        raise TrainingError(
            f"step {step + 1}: lost contact with another worker "
            f"({_reason(e)}); restart every "
            "worker with the same flags: they resume together from the "
            f"last checkpoint in {self.output_dir}") from e
      counts[name] += 1
      self.step.assign_add(1)
      loss = float(out["loss"])
      if counts[name] == 1:
        log.info("traced and ran the train step of %s in %.1fs", name,
                 time.time() - traced)
      history.append((step, name, loss))
      self._loss_log.write(json.dumps({"step": step + 1, "problem": name,
                                       "loss": loss}) + "\n")
      self._loss_log.flush()
      if not bool(out["finite"]):
        bad_in_row += 1
        skipped += 1
        log.warning("step %d (%s): non-finite loss or gradient; update "
                    "skipped (%d in a row)", step, name, bad_in_row)
        if bad_in_row >= self.run.max_nonfinite_steps:
          raise TrainingError(
              f"{bad_in_row} non-finite updates in a row (last on {name} at "
              f"step {step}); stopped. The last good checkpoint is kept in "
              f"{self.output_dir}; lower learning_rate or check the data")
      else:
        bad_in_row = 0
      last["tokens"] += float(out["tokens"])
      step += 1
      if self.is_chief:
        pending[name].append(out)
      if step % log_every == 0 or step == train_steps:
        now = time.time()
        dt = max(now - last["time"], 1e-9)
        share = {n: round(c / max(sum(counts.values()), 1), 3)
                 for n, c in counts.items()}
        rate = (step - last["step"]) / dt
        # The ETA's rate: since this process's first log line (which
        # came after the tracing), so evals and checkpoints are counted.
        if first_log is None:
          first_log, eta_rate = (now, step), rate
        else:
          eta_rate = (step - first_log[1]) / max(now - first_log[0], 1e-9)
        left = (train_steps - step) / eta_rate if eta_rate > 0 else None
        log.info("step %d/%d: loss %.4f (%s), %.2f steps/s, %.0f tokens/s, "
                 "ETA %s, steps per problem %s", step, train_steps, loss,
                 name, rate, last["tokens"] / dt,
                 summaries.format_duration(left), share)
        with self.train_writer.as_default(step=step):
          for n, s in share.items():
            tf.summary.scalar(f"{n}/share_of_steps", s)
        if self.is_chief:
          self._write_train_summaries(step, pending,
                                      out.get("learning_rate"))
        last.update(time=now, step=step, tokens=0.0)
      if (step % eval_every == 0 or step == train_steps) and self.is_chief:
        # Other workers wait for the chief at the next step's all-reduce.
        self.save()
        results = self.evaluate(eval_steps)
        total = max(sum(counts.values()), 1)
        for n in results:  # the realised mixing, beside each eval
          results[n]["share_of_steps"] = counts[n] / total
        extra = after_eval(self, step) if after_eval else None
        self._write_eval(step, results, extra)
        for n, m in results.items():
          log.info("eval step %d %s: %s", step, n, {
              k: round(v, 4) for k, v in {**m, **((extra or {}).get(
                  n, {}))}.items()})
        if extra:
          for n in results:
            results[n].update(extra.get(n, {}))
    self.train_writer.flush()
    self._loss_log.close()
    self.skipped_updates = skipped
    self.history = history
    self.step_counts = counts
    return results


def train(problems, model, hparams_set, data_dir, output_dir, train_steps,
          hparams_overrides="", eval_every=1000, eval_steps=50,
          log_every=100, mixing="round_robin", loss_weights=None,
          rate_caps=None, keep_checkpoints=5, after_eval=None,
          distribution="", worker_hosts="", task_index=None,
          devices="", warm_start_from=None, deterministic=False):
  """Trains (or resumes) a model; returns the last eval's metrics.

  The process-level entry of t2tlite-trainer: it creates the distribution
  strategy and seeds the process (seeding.seed_everything with the run's
  hparams.seed; `deterministic` also turns on op determinism) before the
  model is built.

  after_eval(trainer, step): called after each eval, on the chief; what it
  returns joins that eval's metrics (t2tlite.decode.eval_hook.decoded_metrics
  adds each problem's decoded dev metric).
  distribution: "" (one device), "mirrored" (local `devices`, default every
  GPU) or "multi_worker" (`worker_hosts` and `task_index`, or TF_CONFIG);
  see t2tlite/train/distribute.py. Only the chief evaluates: other workers return
  {}. warm_start_from: another run's output_dir to start from (see
  t2tlite/train/warm_start.py); ignored once this run has a checkpoint.
  """
  # First: multi-worker training must configure TensorFlow at startup.
  strategy = distribute.create_strategy(distribution, worker_hosts,
                                       task_index, devices)
  stored = run_config.read(output_dir)
  hparams = registry.hparams(hparams_set)
  if stored and stored["hparams_set"] == hparams_set and not (
      hparams_overrides):
    hparams = stored["hparams"]  # a rerun of the same command resumes.
  hparams = hparams.override(hparams_overrides)
  seeding.seed_everything(configs.run_config(hparams).seed, deterministic)
  trainer = Trainer(problems, model, hparams_set, hparams, data_dir,
                    output_dir, mixing=mixing, loss_weights=loss_weights,
                    rate_caps=rate_caps, keep_checkpoints=keep_checkpoints,
                    strategy=strategy, warm_start_from=warm_start_from)
  results = trainer.train(train_steps, eval_every, eval_steps, log_every,
                          after_eval=after_eval)
  if not results and trainer.is_chief:
    results = trainer.evaluate(eval_steps)
  return results
