"""Sharded TFRecord files: atomic writing, locking and checked reading.

Shards are named `{problem}-{split}-{i:05d}-of-{n:05d}`. A split is written
to temporary names and each shard is renamed only when the whole split is
complete, so an interrupted datagen leaves no partial shard; generation is
deterministic, so a rerun regenerates exactly the missing split.
"""
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import sys
import time

import numpy as np

from t2tlite import errors


class DataError(errors.UserError, RuntimeError):
  """Missing, corrupt or empty data; the message says what to do."""


def shard_name(problem, split, i, n):
  return f"{problem}-{split}-{i:05d}-of-{n:05d}"


def shard_paths(data_dir, problem, split, n):
  return [os.path.join(data_dir, shard_name(problem, split, i, n))
          for i in range(n)]


def check_sizes(data_dir, problem, split, paths):
  """TFRecordDataset reads a truncated file's tail as a clean end of file;
  comparing each shard's size with what datagen wrote catches that."""
  meta = read_meta(data_dir, problem, split) or {}
  for path, size in zip(paths, meta.get("shard_bytes", [])):
    actual = os.path.getsize(path)
    if actual != size:
      raise DataError(f"corrupt or truncated TFRecord {path}: {actual} "
                      f"bytes, datagen wrote {size}; delete the {split} "
                      "shards and rerun t2tlite-datagen")


def find_shards(data_dir, problem, split):
  """The complete shards of a split, or [] (never a partial set)."""
  found = sorted(glob.glob(os.path.join(data_dir,
                                        f"{problem}-{split}-?????-of-?????")))
  if not found:
    return []
  n = int(found[0][-5:])
  expected = shard_paths(data_dir, problem, split, n)
  return expected if found == expected else []


def write_json(path, obj, indent=None):
  """Writes JSON so that a reader never sees half a file (temp + rename)."""
  with open(path + ".tmp", "w") as f:
    json.dump(obj, f, indent=indent)
  os.replace(path + ".tmp", path)


def meta_path(data_dir, problem, split):
  return os.path.join(data_dir, f"{problem}-{split}.meta.json")


def read_meta(data_dir, problem, split):
  path = meta_path(data_dir, problem, split)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def _to_feature(value):
  import tensorflow as tf
  if isinstance(value, bytes):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
  if isinstance(value, str):
    return tf.train.Feature(
        bytes_list=tf.train.BytesList(value=[value.encode("utf-8")]))
  if isinstance(value, (int, np.integer)):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
  arr = np.asarray(value)
  if arr.dtype.kind in "iub":
    return tf.train.Feature(int64_list=tf.train.Int64List(
        value=arr.reshape(-1).astype(np.int64).tolist()))
  if arr.dtype.kind == "f":
    return tf.train.Feature(float_list=tf.train.FloatList(
        value=arr.reshape(-1).astype(np.float32).tolist()))
  raise TypeError(f"cannot store {type(value).__name__} in a TFRecord")


def serialize(example):
  import tensorflow as tf
  feats = {k: _to_feature(v) for k, v in example.items()}
  return tf.train.Example(
      features=tf.train.Features(feature=feats)).SerializeToString(
          deterministic=True)  # map order would vary with the hash seed


class Progress:
  """Counts with rate and ETA, printed to stderr at most every few seconds."""

  def __init__(self, label, total=None, every=5.0, stream=None):
    self.label, self.total, self.every = label, total, every
    self.stream = stream or sys.stderr
    self.count, self.start, self.last = 0, time.time(), 0.0

  def update(self, n=1):
    self.count += n
    now = time.time()
    if now - self.last >= self.every:
      self.last = now
      self._print(now)

  def _print(self, now):
    rate = self.count / max(now - self.start, 1e-9)
    msg = f"[{self.label}] {self.count}"
    if self.total:
      eta = (self.total - self.count) / max(rate, 1e-9)
      msg += f"/{self.total} ({rate:.0f}/s, ETA {eta:.0f}s)"
    else:
      msg += f" ({rate:.0f}/s)"
    print(msg, file=self.stream, flush=True)

  def done(self):
    self._print(time.time())
    return time.time() - self.start


def write_split(examples, data_dir, problem, split, num_shards,
                length_fn=None, total=None):
  """Writes examples round-robin into shards; returns the example count.

  `length_fn(example)` gives the length recorded in the split's metadata
  (used by the trainer to report how many examples max_length drops).
  """
  import tensorflow as tf
  os.makedirs(data_dir, exist_ok=True)
  finals = shard_paths(data_dir, problem, split, num_shards)
  tmps = [p + ".incomplete" for p in finals]
  writers = [tf.io.TFRecordWriter(p) for p in tmps]
  progress = Progress(f"{problem} {split}", total)
  digest = hashlib.sha256()
  lengths = {}
  count = 0
  try:
    for ex in examples:
      record = serialize(ex)
      digest.update(record)
      writers[count % num_shards].write(record)
      n = length_fn(ex) if length_fn is not None else None
      if n is not None:
        lengths[int(n)] = lengths.get(int(n), 0) + 1
      count += 1
      progress.update()
  finally:
    for w in writers:
      w.close()
  if count == 0:
    for p in tmps:
      os.remove(p)
    raise DataError(f"{problem} {split}: the generator yielded no example")
  meta = {"examples": count, "shards": num_shards,
          "shard_bytes": [os.path.getsize(p) for p in tmps],
          "sha256": digest.hexdigest(),
          "lengths": {str(k): v for k, v in sorted(lengths.items())},
          "seconds": round(progress.done(), 2)}
  tmp_meta = meta_path(data_dir, problem, split) + ".incomplete"
  with open(tmp_meta, "w") as f:
    json.dump(meta, f)
  for tmp, final in zip(tmps, finals):
    os.replace(tmp, final)
  os.replace(tmp_meta, meta_path(data_dir, problem, split))
  return count


def remove_incomplete(data_dir, problem):
  for p in glob.glob(os.path.join(data_dir, f"{problem}-*.incomplete")):
    os.remove(p)
  # Shards of a split whose metadata never landed belong to a cut-off run.
  for p in glob.glob(os.path.join(data_dir, f"{problem}-*-?????-of-?????")):
    split = os.path.basename(p)[len(problem) + 1:].rsplit("-", 3)[0]
    if not os.path.exists(meta_path(data_dir, problem, split)):
      os.remove(p)


@contextlib.contextmanager
def datagen_lock(data_dir, wait=True):
  """One datagen per data_dir at a time; the second waits (or fails)."""
  os.makedirs(data_dir, exist_ok=True)
  path = os.path.join(data_dir, ".datagen.lock")
  with open(path, "w") as f:
    try:
      fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      if not wait:
        raise DataError(f"another t2tlite-datagen is writing {data_dir}")
      print(f"waiting for another t2tlite-datagen on {data_dir} ...",
            file=sys.stderr, flush=True)
      fcntl.flock(f, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(f, fcntl.LOCK_UN)


def check_tfrecord(path):
  """Raises DataError naming `path` if any record is truncated or corrupt."""
  import tensorflow as tf
  try:
    for _ in tf.data.TFRecordDataset(path):
      pass
  except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as e:
    raise DataError(f"corrupt or truncated TFRecord {path}: "
                    f"{e.message.splitlines()[0]}") from None


def find_corrupt(paths):
  """After a DataLossError: the first file that does not read cleanly."""
  for p in paths:
    try:
      check_tfrecord(p)
    except DataError as e:
      return e
  return None
