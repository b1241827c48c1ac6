import json
import os

import pytest

import t2tlite  # noqa: F401
from t2tlite.data import data_io


def examples(n, fail_at=None):
  for i in range(n):
    if i == fail_at:
      raise RuntimeError("killed")
    yield {"inputs": [i + 3, 4, 1], "targets": [5, i + 3, 1]}


def test_shard_names_and_meta(tmp_path):
  n = data_io.write_split(examples(10), str(tmp_path), "p", "train", 3,
                          length_fn=lambda e: len(e["inputs"]))
  assert n == 10
  names = sorted(os.listdir(tmp_path))
  assert names == ["p-train-00000-of-00003", "p-train-00001-of-00003",
                   "p-train-00002-of-00003", "p-train.meta.json"]
  meta = data_io.read_meta(str(tmp_path), "p", "train")
  assert meta["examples"] == 10 and meta["lengths"] == {"3": 10}
  assert data_io.find_shards(str(tmp_path), "p", "train")


def test_interrupted_write_leaves_no_shard_and_rerun_is_identical(tmp_path):
  d = str(tmp_path)
  with pytest.raises(RuntimeError):
    data_io.write_split(examples(10, fail_at=6), d, "p", "dev", 2)
  assert data_io.find_shards(d, "p", "dev") == []
  # Only temporary names exist; none looks like a finished shard.
  assert all(n.endswith(".incomplete") for n in os.listdir(d)
             if n.startswith("p-dev"))
  data_io.remove_incomplete(d, "p")
  assert os.listdir(d) == [] or all(n.startswith(".") for n in os.listdir(d))
  data_io.write_split(examples(10), d, "p", "dev", 2)
  first = json.load(open(data_io.meta_path(d, "p", "dev")))
  other = tmp_path / "other"
  data_io.write_split(examples(10), str(other), "p", "dev", 2)
  second = json.load(open(data_io.meta_path(str(other), "p", "dev")))
  assert first["sha256"] == second["sha256"] and first["examples"] == 10


def test_shards_without_meta_are_removed_as_partial(tmp_path):
  d = str(tmp_path)
  data_io.write_split(examples(4), d, "p", "test", 2)
  os.remove(data_io.meta_path(d, "p", "test"))  # cut between renames
  data_io.remove_incomplete(d, "p")
  assert data_io.find_shards(d, "p", "test") == []


def test_corrupt_record_is_named(tmp_path):
  d = str(tmp_path)
  data_io.write_split(examples(20), d, "p", "train", 1)
  path = data_io.shard_paths(d, "p", "train", 1)[0]
  data = bytearray(open(path, "rb").read())
  data[40] ^= 0xFF
  open(path, "wb").write(bytes(data[:-7]))
  err = data_io.find_corrupt([path])
  assert err is not None and path in str(err)


def test_second_datagen_lock_fails_clearly_when_not_waiting(tmp_path):
  with data_io.datagen_lock(str(tmp_path)):
    with pytest.raises(data_io.DataError, match="another t2tlite-datagen"):
      with data_io.datagen_lock(str(tmp_path), wait=False):
        pass
