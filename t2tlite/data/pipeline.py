"""The input pipeline: shard files -> records -> batches, for every problem.

One function serves every modality: `batched(problem, data_dir, split,
hparams, training)`. The problem's two codecs (t2tlite.data.codecs) say
what each side stores, how it becomes a model tensor and how it is
measured and padded; the functions here do the rest:

  read_records(files, training, seed, shard)  the records of one split, in
      an order that a checkpointed iterator resumes exactly;
  dataset(problem, ...)  parsed records -> {"inputs", "targets"} tensors;
  batching(codecs, hparams)  the two sides' BatchSides -> a Batching;
  batch(ds, batching, training)  drops examples over the length caps and
      groups the rest into batches, bucketed by length where it pays.
"""
import dataclasses
import os
from typing import Callable, Optional, Tuple

from t2tlite import configs
from t2tlite.data import data_io
from t2tlite.data import problem as problem_lib


def bucket_boundaries(max_length, min_length=8, step=1.1):
  """Geometric bucket edges, as T2T did: few buckets, little padding."""
  edges, x = [], min_length
  while x < max_length:
    edges.append(x)
    x = max(x + 1, int(x * step))
  return edges


@dataclasses.dataclass(frozen=True)
class Batching:
  """How one problem's examples are grouped into batches.

  lengths       functions of an example (scalar int tensors) that the
                batches are bucketed by: (), (one) or (inputs, targets).
  max_lengths   the largest allowed value of each length; longer examples
                are dropped.
  budgets       positions per batch along each length: a bucket's batch is
                as large as every budget allows at its upper edges. Empty:
                `batch_size` examples per batch.
  batch_size    examples per batch when there are no budgets (images).
  min_lengths   the first bucket edge of each length.
  growth        the ratio of one bucket edge to the next.
  eval_length   the length evaluation batches are bucketed by (default the
                first): evaluation buckets by one length, as fewer, fuller
                batches matter more there than padding.
  padded_shapes the padded_batch shapes; None lets tf.data infer them.
  """
  lengths: Tuple[Callable, ...] = ()
  max_lengths: Tuple[int, ...] = ()
  budgets: Tuple[int, ...] = ()
  batch_size: int = 0
  min_lengths: Tuple[int, ...] = ()
  growth: float = 1.1
  eval_length: Optional[Callable] = None
  padded_shapes: Optional[dict] = None

  def __post_init__(self):
    if len(self.max_lengths) != len(self.lengths):
      raise ValueError("Batching needs one max_length per length")
    if self.budgets and len(self.budgets) != len(self.lengths):
      raise ValueError("Batching needs one budget per length")
    if not self.budgets and self.batch_size < 1:
      raise ValueError("Batching needs budgets or a batch_size")
    if self.budgets and len(self.lengths) > 2:
      raise ValueError("Batching buckets by at most two lengths")


def read_records(files, training, seed=0, shard=(1, 0)):
  """The serialized records of a split's shard files.

  Evaluation reads them once, in order. Training reads endless epochs, each
  shuffled with its own seed (seed, epoch) rather than by a reshuffling
  shuffle under repeat(): the epoch counter lives in the iterator, so a
  checkpointed iterator resumes with exactly the order an uninterrupted
  run would have seen. Records are shuffled within windows of 2,048, and
  the files' order per epoch. `shard=(n, i)` keeps every n-th file from
  the i-th (one worker's part).
  """
  import tensorflow as tf

  def one_pass(epoch):
    # Stateless shuffles: a stateful shuffle's seed generator cannot be
    # checkpointed with the iterator and would restart after a resume.
    names = tf.constant(files)
    if epoch is not None:
      names = tf.random.experimental.stateless_shuffle(
          names, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))
    ds = tf.data.Dataset.from_tensor_slices(names)
    if shard[0] > 1:
      ds = ds.shard(*shard)
    ds = ds.interleave(tf.data.TFRecordDataset,
                       cycle_length=min(4, len(files)),
                       num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=True)
    if epoch is not None:
      window_seed = lambda w: tf.stack([epoch * 100_003 + seed, w])
      ds = ds.batch(2048).enumerate().map(
          lambda w, recs: tf.random.experimental.stateless_shuffle(
              recs, seed=window_seed(w))).unbatch()
    return ds

  if training:
    return tf.data.Dataset.counter().flat_map(one_pass)
  return one_pass(None)


def dataset(problem, data_dir, split, hparams, training, seed=0,
            shard=(1, 0), sides=None):
  """A split's examples as model tensors {"inputs", "targets"}; endless
  epochs when training (read_records says in what order).

  A side that draws random numbers (image augmentation) gets the stateless
  seed (seed, the example's position in the stream): as the order is
  reshuffled every epoch, an image gets a new crop and flip each time.
  """
  import tensorflow as tf
  from t2tlite.data import codecs as codecs_lib
  config = configs.data_config(hparams)
  sides = sides or codecs_lib.for_problem(problem, data_dir)
  parse = parser(sides)
  ds = read_records(shard_files(problem, data_dir, split), training, seed,
                    shard)
  # Plain TF ops, no autograph: autograph's conversion cache has mixed
  # up bound methods of two instances of one class (forward and _rev).
  no_ag = tf.autograph.experimental.do_not_convert
  ds = ds.map(no_ag(parse), num_parallel_calls=tf.data.AUTOTUNE,
              deterministic=True)
  seeded = any(c.needs_seed(config, training) for c in sides)

  def to_model(example, s=None):
    return {"inputs": sides.inputs.to_model(example, config, training, s),
            "targets": sides.targets.to_model(example, config, training, s)}

  if seeded:
    seeds = tf.data.Dataset.counter().map(
        lambda i: tf.stack([tf.constant(seed, tf.int64), i]))
    ds = tf.data.Dataset.zip((ds, seeds))
  return ds.map(no_ag(to_model), num_parallel_calls=tf.data.AUTOTUNE,
                deterministic=True)


def parser(sides):
  """fn(serialized record) -> dict of dense stored features that the two
  codecs read."""
  import tensorflow as tf
  spec = {**sides.inputs.feature_spec(), **sides.targets.feature_spec()}

  def parse(record):
    parsed = tf.io.parse_single_example(record, spec)
    return {k: tf.sparse.to_dense(v) if isinstance(v, tf.SparseTensor) else v
            for k, v in parsed.items()}
  return parse


def batching(sides, hparams):
  """The Batching of a problem from its codecs' BatchSides.

  Sides with a length are bucketed by it (both, when both have one) and
  capped at their max_length. Token budgets (text, audio frames) size a
  batch by its bucket; a fixed-shape side (images) fixes the number of
  examples instead, and then the length buckets are coarser (from 4,
  growth 1.3): each must fill a whole batch, so fewer of them pay. When
  evaluating, batches are bucketed by the longest of the lengths.
  """
  import tensorflow as tf
  config = configs.data_config(hparams)
  parts = (sides.inputs.batching(config), sides.targets.batching(config))
  keys = ("inputs", "targets")
  measured = [(k, b) for k, b in zip(keys, parts) if b.length is not None]
  lengths = tuple((lambda ex, k=k, fn=b.length: fn(ex[k]))
                  for k, b in measured)
  padded = {k: list(b.padded_shape) for k, b in zip(keys, parts)}
  batch_size = max(b.batch_size for b in parts)
  common = dict(lengths=lengths,
                max_lengths=tuple(b.max_length for _, b in measured),
                padded_shapes=padded)
  if batch_size:
    return Batching(batch_size=batch_size, growth=1.3,
                    min_lengths=(4,) * len(lengths), **common)
  eval_length = None
  if len(lengths) == 2:
    eval_length = lambda ex: tf.maximum(lengths[0](ex), lengths[1](ex))
  return Batching(budgets=tuple(b.budget for _, b in measured),
                  min_lengths=tuple(b.min_length for _, b in measured),
                  eval_length=eval_length, **common)


def batched(problem, data_dir, split, hparams, training, seed=0,
            shard=(1, 0)):
  """Batches of a problem's split for the train step (endless, bucketed
  by every length) or the eval step (one pass)."""
  from t2tlite.data import codecs as codecs_lib
  sides = codecs_lib.for_problem(problem, data_dir)
  ds = dataset(problem, data_dir, split, hparams, training, seed, shard,
               sides)
  return batch(ds, batching(sides, hparams), training)


def length_fn(sides):
  """fn(stored example) -> the length max_length filters it on: the
  longest of its sides' (`sides`: the problem's codecs; None when no side
  has one)."""

  def length(example):
    found = [n for n in (c.stored_length(example) for c in sides)
             if n is not None]
    return max(found) if found else None
  return length


def batch(ds, batching, training):
  """Examples -> batches, as `batching` says (see Batching).

  Training batches are bucketed by every length (little padding on either
  side) and, at a fixed batch size, hold exactly that many examples.
  Evaluation batches are bucketed by `eval_length` and keep every example.
  """
  import tensorflow as tf
  b = batching
  if b.lengths:
    caps = tuple(zip(b.lengths, b.max_lengths))
    ds = ds.filter(lambda ex: tf.reduce_all(
        tf.stack([fn(ex) <= cap for fn, cap in caps])))
  mins = b.min_lengths or (8,) * len(b.lengths)
  if not b.budgets:
    if not b.lengths or not training:
      return ds.padded_batch(b.batch_size, b.padded_shapes,
                             drop_remainder=training)
    edges = bucket_boundaries(b.max_lengths[0] + 1, mins[0], b.growth)
    return ds.bucket_by_sequence_length(
        b.lengths[0], bucket_boundaries=edges,
        bucket_batch_sizes=[b.batch_size] * (len(edges) + 1),
        padded_shapes=b.padded_shapes, pad_to_bucket_boundary=False,
        drop_remainder=True)
  if training and len(b.lengths) == 2:
    caps = tuple(m + 1 for m in b.max_lengths)
    return _bucket_by_two_lengths(ds, b.lengths, caps, b.budgets,
                                  b.padded_shapes, mins, b.growth)
  cap = b.max_lengths[0] + 1
  edges = bucket_boundaries(cap, mins[0], b.growth)
  sizes = [max(1, b.budgets[0] // e) for e in edges + [cap]]
  key = b.lengths[0] if training else (b.eval_length or b.lengths[0])
  return ds.bucket_by_sequence_length(
      key, bucket_boundaries=edges, bucket_batch_sizes=sizes,
      padded_shapes=b.padded_shapes, pad_to_bucket_boundary=False,
      drop_remainder=False)


def _bucket_by_two_lengths(ds, lengths, caps, budgets, padded_shapes,
                           min_lengths, growth):
  """Batches examples whose two lengths fall in the same pair of buckets,
  so neither side is padded much.

  Bucketing by the longer side alone left a fifth of the shorter side's
  positions padded (a third for parsing, whose targets are longer than its
  inputs). A bucket's batch is as large as both budgets allow at its upper
  edges. Built on group_by_window, which a checkpointed iterator saves and
  restores.
  """
  import tensorflow as tf
  edges = [bucket_boundaries(c, m, growth) for c, m in zip(caps, min_lengths)]
  uppers = [e + [c] for e, c in zip(edges, caps)]
  sizes = tf.constant(
      [[max(1, min(budgets[0] // ua, budgets[1] // ub)) for ub in uppers[1]]
       for ua in uppers[0]], tf.int64)
  width = len(uppers[1])
  edge_tensors = [tf.constant(e, tf.int32) for e in edges]

  def bucket(n, e):
    return tf.reduce_sum(tf.cast(e <= n, tf.int64))

  def key(ex):
    return (bucket(lengths[0](ex), edge_tensors[0]) * width +
            bucket(lengths[1](ex), edge_tensors[1]))

  def size(k):
    return tf.reshape(sizes, [-1])[k]

  return ds.group_by_window(
      key, lambda k, w: w.padded_batch(size(k), padded_shapes),
      window_size_func=size)


def shard_files(problem, data_dir, split):
  """The shard files of a problem's split; a missing data_dir or split is a
  DataError naming the datagen command that writes it."""
  name = problem_lib.data_name(problem)
  command = (f"t2tlite-datagen --problem={name} "
             f"--data_dir={data_dir} --tmp_dir=/tmp/t2tlite_tmp")
  if not os.path.isdir(data_dir):
    raise data_io.DataError(f"data_dir {data_dir} does not exist; run "
                            f"{command}")
  files = data_io.find_shards(data_dir, name, split)
  if not files:
    raise data_io.DataError(
        f"no {split} shards for problem '{name}' in "
        f"{data_dir}; run {command}")
  data_io.check_sizes(data_dir, name, split, files)
  return files


def num_examples(problem, data_dir, split):
  """Examples in a split, as datagen counted them; None when unknown."""
  meta = data_io.read_meta(data_dir, problem_lib.data_name(problem), split)
  return meta["examples"] if meta else None


def dropped_by_length(problem, data_dir, split, max_length):
  """How many examples of a split max_length drops (from datagen meta)."""
  name = problem_lib.data_name(problem)
  meta = data_io.read_meta(data_dir, name, split) or {}
  return sum(v for k, v in meta.get("lengths", {}).items()
             if int(k) > max_length)


def eval_pairs(problem, data_dir, split, hparams, limit=None):
  """Yields (model inputs as numpy, reference line) of a split, in file
  order: the inputs as evaluation reads them, the reference as the
  problem's target codec writes it (a transcript as spoken, a class name,
  a decoded sentence)."""
  import numpy as np
  import tensorflow as tf
  from t2tlite.data import codecs as codecs_lib
  sides = codecs_lib.for_problem(problem, data_dir)
  ds = read_records(shard_files(problem, data_dir, split), False, 0, (1, 0))
  no_ag = tf.autograph.experimental.do_not_convert
  ds = ds.map(no_ag(parser(sides)))
  if limit:
    ds = ds.take(limit)
  config = configs.data_config(hparams)
  ds = ds.map(no_ag(
      lambda r: (sides.inputs.to_model(r, config, False), r)))
  for inputs, record in ds.as_numpy_iterator():
    yield np.asarray(inputs), sides.targets.reference(record)
