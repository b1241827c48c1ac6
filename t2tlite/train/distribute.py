"""Training on several devices or hosts with tf.distribute.

  (no --distribution)          one device: the plain trainer path.
  --distribution=mirrored      one process, every local GPU (or --devices).
  --distribution=multi_worker  one process per host, synchronous all-reduce;
                               the cluster comes from --worker_hosts and
                               --task_index, or from TF_CONFIG.

The hparams mean the same thing at any scale: batch_size (and
image_batch_size, audio_batch_frames) is the global batch, each of the R
replicas reads 1/R of it, the loss is normalised by the global token count
and the replicas' gradients are summed, so R replicas x B/R tokens make the
update one device makes with B tokens.

Input: each worker builds its own pipeline (distribute_datasets_from_function)
over its own part of the train shard files, pipeline.batched(shard=(workers,
index)), so no two workers read the same examples in an epoch (the files are
reshuffled each epoch, identically on every worker, before being divided).
With several local replicas, consecutive batches of the worker's pipeline go
to its replicas. We do not use experimental_distribute_dataset: its
auto-sharding cannot see the file reader inside the endless epoch loop
(Dataset.counter().flat_map) and falls back to every worker reading
everything and dropping most of it; nor could it split a bucketed batch.

Checkpoints: only the chief writes anything in output_dir. Every worker
restores from output_dir, which must be one directory that every worker can
read (a shared file system, as for TensorFlow's BackupAndRestore); the
workers check that they resumed at the same step. The chief cannot save the
other workers' iterators, so a distributed checkpoint holds no input state:
each stream skips ahead to the step instead. A stream is a pure function of
(seed, shard), so this gives the batches an uninterrupted run would have
seen, at the cost of reading (not training on) the batches already done.
Resuming with another number of workers or devices is allowed (the hparams
are global) but then reads other batches than an uninterrupted run.

Dropout: every replica starts from the same seed state, so replicas draw
the same masks for equal shapes (on different examples).
"""
import collections
import contextlib
import json
import logging
import os

import tensorflow as tf

from t2tlite.data import pipeline
from t2tlite.data import data_io
from t2tlite.train import optimization
from t2tlite import errors

log = logging.getLogger("t2tlite")

DISTRIBUTIONS = ("", "mirrored", "multi_worker")


class DistributeError(errors.UserError, ValueError):
  """A malformed or inconsistent distribution setting."""


# --- the cluster --------------------------------------------------------------
def parse_hosts(text):
  """'host:port,host:port' -> list of 'host:port' (checked)."""
  hosts = [h.strip() for h in (text or "").split(",") if h.strip()]
  if not hosts:
    raise DistributeError("--worker_hosts is empty; give host:port,...")
  for h in hosts:
    host, sep, port = h.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
      raise DistributeError(f"malformed worker address {h!r}: expected "
                            "host:port")
  if len(set(hosts)) != len(hosts):
    raise DistributeError(f"--worker_hosts lists an address twice: {text}")
  return hosts


def tf_config(worker_hosts, task_index):
  """The TF_CONFIG dict for --worker_hosts and --task_index."""
  hosts = parse_hosts(worker_hosts)
  if task_index is None:
    raise DistributeError("--worker_hosts needs --task_index (this "
                          "process's position in the list)")
  if not 0 <= task_index < len(hosts):
    raise DistributeError(f"--task_index={task_index} is out of range for "
                          f"{len(hosts)} --worker_hosts")
  return {"cluster": {"worker": hosts},
          "task": {"type": "worker", "index": task_index}}


def cluster_config(worker_hosts=None, task_index=None, environ=None):
  """The cluster to join: from the flags if given, else from TF_CONFIG."""
  environ = os.environ if environ is None else environ
  if worker_hosts:
    if environ.get("TF_CONFIG"):
      log.info("--worker_hosts given: TF_CONFIG is ignored")
    return tf_config(worker_hosts, task_index)
  if task_index is not None:
    raise DistributeError("--task_index needs --worker_hosts")
  text = environ.get("TF_CONFIG")
  if not text:
    raise DistributeError("--distribution=multi_worker needs --worker_hosts "
                          "and --task_index, or the TF_CONFIG variable")
  try:
    cfg = json.loads(text)
    cluster, task = cfg["cluster"], cfg["task"]
    task_type, index = task["type"], int(task["index"])
  except (ValueError, KeyError, TypeError) as e:
    raise DistributeError(f"malformed TF_CONFIG ({e}): expected "
                          '{"cluster": {"worker": [...]}, "task": '
                          '{"type": "worker", "index": 0}}') from None
  if task_type not in ("chief", "worker"):
    raise DistributeError(f"TF_CONFIG task type {task_type!r} is not "
                          "supported (chief or worker)")
  if set(cluster) - {"chief", "worker"}:
    raise DistributeError(f"TF_CONFIG jobs {sorted(cluster)}: only chief "
                          "and worker are supported")
  if not 0 <= index < len(cluster.get(task_type, [])):
    raise DistributeError(f"TF_CONFIG task {task_type}:{index} is not in "
                          "its cluster")
  return cfg


def position(cfg):
  """(number of workers, this worker's index, is_chief) for a TF_CONFIG.

  The chief, if the cluster has one, is worker 0 and the workers follow;
  without a chief, worker 0 is the chief (TensorFlow's convention).
  """
  cluster, task = cfg["cluster"], cfg["task"]
  chiefs = len(cluster.get("chief", []))
  count = chiefs + len(cluster.get("worker", []))
  if task["type"] == "chief":
    return count, int(task["index"]), True
  index = chiefs + int(task["index"])
  return count, index, index == 0


# --- strategies ---------------------------------------------------------------
Placement = collections.namedtuple("Placement", [
    "num_workers", "worker_index", "is_chief", "num_replicas"])
ONE_DEVICE = Placement(1, 0, True, 1)


def placement(strategy):
  """Where this process stands in a strategy's cluster (None: one device)."""
  if strategy is None:
    return ONE_DEVICE
  replicas = strategy.num_replicas_in_sync
  resolver = getattr(strategy, "cluster_resolver", None)
  cluster = resolver.cluster_spec().as_dict() if resolver else {}
  if not cluster:
    return Placement(1, 0, True, replicas)
  count, index, chief = position({"cluster": cluster, "task": {
      "type": resolver.task_type, "index": resolver.task_id}})
  return Placement(count, index, chief, replicas)


def create_strategy(distribution, worker_hosts=None, task_index=None,
                    devices=None):
  """The tf.distribute strategy for the flags; None for one device.

  Call it before any other TensorFlow work: multi_worker configures the
  collective ops of the process, which TensorFlow allows only at startup.
  """
  distribution = (distribution or "").strip()
  if distribution not in DISTRIBUTIONS:
    raise DistributeError(f"unknown --distribution={distribution}; use "
                          "mirrored or multi_worker (or leave it out)")
  if devices and distribution != "mirrored":
    raise DistributeError("--devices needs --distribution=mirrored")
  if distribution != "multi_worker" and (worker_hosts or
                                         task_index is not None):
    raise DistributeError("--worker_hosts and --task_index need "
                          "--distribution=multi_worker")
  if not distribution:
    return None
  if distribution == "mirrored":
    names = [d.strip() for d in (devices or "").split(",") if d.strip()]
    strategy = tf.distribute.MirroredStrategy(devices=names or None)
    log.info("mirrored training on %d device(s): %s",
             strategy.num_replicas_in_sync,
             ", ".join(strategy.extended.worker_devices))
    return strategy
  cfg = cluster_config(worker_hosts, task_index)
  resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
      tf.train.ClusterSpec(cfg["cluster"]), task_type=cfg["task"]["type"],
      task_id=int(cfg["task"]["index"]), rpc_layer="grpc")
  _fresh_eager_context()
  try:
    strategy = tf.distribute.MultiWorkerMirroredStrategy(
        cluster_resolver=resolver)
  except RuntimeError as e:
    raise DistributeError(f"cannot start multi-worker training: {e}") from e
  where = placement(strategy)
  log.info("worker %d of %d%s, %d replica(s) in sync", where.worker_index,
           where.num_workers, " (chief)" if where.is_chief else "",
           where.num_replicas)
  return strategy


def _fresh_eager_context():
  """Undoes the device start of `import t2tlite` (done there to silence the
  devices' start-up log): collective ops can only be configured in an eager
  context that has not started. Safe only before any tensor exists, which
  is why create_strategy must come first."""
  # pylint: disable=import-outside-toplevel,protected-access
  from tensorflow.python.eager import context
  if context.context()._context_handle is not None:
    context._reset_context()


def scope(strategy):
  """strategy.scope(), or nothing for one device."""
  return strategy.scope() if strategy else contextlib.nullcontext()


# --- input --------------------------------------------------------------------
def per_replica_hparams(hparams, num_replicas):
  """The batch-size hparams divided among the replicas (they are global)."""
  if num_replicas == 1:
    return hparams
  changes = {}
  for key in ("batch_size", "image_batch_size", "audio_batch_frames"):
    value = getattr(hparams, key)
    if not value:  # absent, or 0 meaning "derive from batch_size"
      continue
    if value < num_replicas:
      raise DistributeError(f"{key}={value} cannot be split among "
                            f"{num_replicas} replicas; raise it")
    changes[key] = value // num_replicas
  return hparams.replace(**changes)


def check_shards(problem, data_dir, num_workers):
  """Every worker needs a train shard file of its own."""
  files = pipeline.shard_files(problem, data_dir, "train")
  if len(files) < num_workers:
    raise data_io.DataError(
        f"{problem.name} has {len(files)} train shard file(s) for "
        f"{num_workers} workers: each worker reads its own files; "
        "regenerate the data with num_shards['train'] >= the number of "
        "workers")
  if len(files) % num_workers:
    log.warning("%s: %d train shard files do not divide among %d workers; "
                "some workers read more files per epoch than others",
                problem.name, len(files), num_workers)


def steps_per_problem(mixer, names, step):
  """How many of the first `step` steps trained each problem."""
  counts = {n: 0 for n in names}
  for s in range(step):
    counts[mixer.choose(s)] += 1
  return counts


def worker_dataset(problem, data_dir, hparams, seed, skip, context):
  """One worker's training batches for `problem` after `skip` steps.

  `hparams` are per replica; each step takes one batch per local replica.
  """
  ds = pipeline.batched(problem, data_dir, "train", hparams, training=True,
                        seed=seed, shard=(context.num_input_pipelines,
                                          context.input_pipeline_id))
  local = context.num_replicas_in_sync // context.num_input_pipelines
  if skip:
    ds = ds.skip(skip * local)
  return ds.prefetch(2)


def stream(strategy, problem, data_dir, hparams, seed, skip):
  """A distributed iterator of per-replica batches."""
  return iter(strategy.distribute_datasets_from_function(
      lambda ctx: worker_dataset(problem, data_dir, hparams, seed, skip,
                                 ctx)))


def agreed_step(strategy, step):
  """Every worker's restored step; raises if they differ."""
  @tf.function
  def gather():
    def replica():
      ctx = tf.distribute.get_replica_context()
      return ctx.all_gather(tf.constant([step], tf.int64), axis=0)
    return strategy.experimental_local_results(strategy.run(replica))[0]

  steps = sorted(set(int(s) for s in gather().numpy()))
  if len(steps) > 1:
    raise DistributeError(
        f"the workers resumed at different steps {steps}: output_dir must "
        "be one directory that every worker reads (a shared file system)")
  return steps[0]


# --- the train step -----------------------------------------------------------
def train_step(strategy, loss_fn, model, optimizer, clip_grad_norm):
  """A compiled step over a distributed iterator.

  loss_fn(features) -> (loss_sum, tokens, aux_losses, aux_outputs, scale) of
  one replica's batch. Returns the step's outputs as one device would for
  the global batch: loss, total_loss, tokens, grad_norm, finite and the aux
  outputs (averaged over replicas).
  """
  num_replicas = strategy.num_replicas_in_sync
  sum_ = tf.distribute.ReduceOp.SUM
  used = []  # indices of the variables this problem's loss reaches

  def replica_step(features):
    ctx = tf.distribute.get_replica_context()
    variables = model.trainable_variables
    with tf.GradientTape() as tape:
      loss_sum, weight, extra, aux, scale = loss_fn(features)
      tokens = ctx.all_reduce(sum_, weight)
      # This replica's share of the one-device objective
      # scale * (sum of token losses / tokens + aux losses): summed over
      # the replicas (as the gradients are), it is exactly that objective.
      share = scale * (loss_sum / tf.maximum(tokens, 1.0) +
                       (tf.add_n(extra) / num_replicas if extra else 0.0))
    grads = tape.gradient(share, variables)
    used[:] = [i for i, g in enumerate(grads) if g is not None]
    # Embedding gradients stay IndexedSlices (all-reduced by gathering the
    # slices of every replica): Keras' Adam squares each slice of a sparse
    # gradient before summing duplicates, so densifying them here would
    # train differently from one device on the same global batch.
    grads = ctx.all_reduce(sum_, [grads[i] for i in used])
    sums = ctx.all_reduce(sum_, {"loss_sum": loss_sum, "total": share})
    out = {"loss": sums["loss_sum"] / tf.maximum(tokens, 1.0),
           "total_loss": sums["total"], "tokens": tokens}
    if aux:
      out.update(ctx.all_reduce(tf.distribute.ReduceOp.MEAN, aux))
    return grads, out

  @tf.function
  def step(iterator):
    grads, out = strategy.run(replica_step, args=(next(iterator),))
    # After the all-reduce every replica holds the same values: the update
    # is computed once, in cross-replica context, from the first copy, so
    # the finiteness test and the clipping agree on every worker.
    first = lambda x: strategy.experimental_local_results(x)[0]
    # Densified after the all-reduce, as on one device (trainer's
    # dense_gradients): the same update, computed from the summed slices.
    grads = [tf.convert_to_tensor(first(g)) if isinstance(
        first(g), tf.IndexedSlices) else first(g) for g in grads]
    out = tf.nest.map_structure(first, out)
    variables = [model.trainable_variables[i] for i in used]
    norm, finite = optimization.apply_update(
        optimizer, grads, variables, out["total_loss"], clip_grad_norm)
    out.update(grad_norm=norm, finite=finite)
    return out

  return step
