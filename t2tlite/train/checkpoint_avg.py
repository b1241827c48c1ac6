"""Checkpoint averaging (T2T's t2t-avg-all, fairseq's average_checkpoints).

The mean of the model variables of a run's last N checkpoints usually
decodes a little better than the last checkpoint alone (Vaswani et al.
2017 averaged the last 5 or 20). Variables are matched by their structural
key (model.structured_variables), so checkpoints of runs written before
2026-12, keyed with class names, average too (through model.variable_map,
per checkpoint). Only the model's variables are averaged; float variables
are averaged in float64, others (dropout seeds' states) are the newest
checkpoint's.

Used by t2tlite-decoder and t2tlite-exporter (--checkpoint_average=N) and
t2tlite.load(..., average=N); `t2tlite-avg-checkpoints --output_dir=O
--checkpoint_average=N --averaged_dir=A` (bin/t2t_avg_checkpoints.py)
writes the average as a run of its own (A decodes, exports and serves like
O).
"""
import json
import os
import re
import shutil

import numpy as np
import tensorflow as tf

from t2tlite import model as model_lib
from t2tlite.train import run_config

AVERAGED_NAME = "averaged_from.json"


class AverageError(run_config.ConfigError):
  """Checkpoints that cannot be averaged (too few, or of another model)."""


def run_checkpoints(output_dir):
  """The complete checkpoints of a run, oldest first (as the trainer's
  CheckpointManager lists them in OUTPUT_DIR/checkpoint)."""
  state = tf.train.get_checkpoint_state(output_dir)
  if state is None:
    return []
  paths = []
  for p in state.all_model_checkpoint_paths:
    if not os.path.isabs(p):
      p = os.path.join(output_dir, p)
    if os.path.exists(p + ".index"):  # deleted or never completed: skip
      paths.append(p)
  return paths


def _same(a, b):
  return os.path.normpath(os.path.abspath(a)) == os.path.normpath(
      os.path.abspath(b))


def last_checkpoints(output_dir, n, until=None):
  """The run's last `n` checkpoints, oldest first; with `until` (a
  checkpoint path of the run) the n that end with it."""
  n = int(n)
  if n < 1:
    raise AverageError(f"--checkpoint_average={n}: average at least 1 "
                       "checkpoint")
  paths = run_checkpoints(output_dir)
  if until is not None:
    where = [i for i, p in enumerate(paths) if _same(p, until)]
    if not where:
      raise AverageError(
          f"checkpoint {until} is not one of the checkpoints of "
          f"{output_dir} ({_names(paths) or 'none'}); averaging takes a run's "
          "own checkpoints")
    paths = paths[:where[0] + 1]
  if n > len(paths):
    which = f"up to {os.path.basename(until)} " if until else ""
    raise AverageError(
        f"--checkpoint_average={n}, but {output_dir} holds {len(paths)} "
        f"checkpoint{'' if len(paths) == 1 else 's'} {which}"
        f"({_names(paths) or 'none'}); the trainer keeps "
        "--keep_checkpoints of them")
  return paths[-n:]


def _names(paths):
  return ", ".join(os.path.basename(p) for p in paths)


def _shown(names, limit=3):
  return ", ".join(names[:limit]) + (
      f" and {len(names) - limit} more" if len(names) > limit else "")


def average_values(model, paths):
  """{structural key: numpy mean over the checkpoints} for every model
  variable; AverageError naming the checkpoint and the variables if one
  lacks any of them or holds one of another shape."""
  if not paths:
    raise AverageError("no checkpoints to average")
  current = model_lib.structured_variables(model)
  if not current:
    raise AverageError("the model has no variables yet: build it before "
                       "averaging checkpoints")
  names = list(current)
  sums, last = {}, {}
  for path in paths:
    try:
      reader = tf.train.load_checkpoint(path)
      shapes = reader.get_variable_to_shape_map()
    except Exception as e:  # pylint: disable=broad-except
      raise AverageError(f"checkpoint {path} is unreadable: "
                         f"{str(e).splitlines()[0][:200]}") from None
    # This checkpoint's keys (today's or legacy ones), in the same order.
    keys = list(model_lib.variable_map(model, path))
    missing = [name for name, key in zip(names, keys)
               if model_lib._checkpoint_key(key) not in shapes]  # pylint: disable=protected-access
    if missing:
      raise AverageError(
          f"checkpoint {path} does not hold {len(missing)} of the model's "
          f"{len(names)} variables ({_shown(missing)}): checkpoints of "
          "different models cannot be averaged")
    for name, key in zip(names, keys):
      ckey = model_lib._checkpoint_key(key)  # pylint: disable=protected-access
      want = tuple(current[name].shape)
      if tuple(shapes[ckey]) != want:
        raise AverageError(
            f"checkpoint {path}: variable {name} has shape "
            f"{tuple(shapes[ckey])}, the model's {want}: checkpoints of "
            "different models cannot be averaged")
      value = reader.get_tensor(ckey)
      if np.issubdtype(np.asarray(value).dtype, np.floating):
        sums[name] = sums.get(name, 0.0) + np.asarray(value, np.float64)
      else:
        last[name] = value  # the newest checkpoint's (paths: oldest first)
  out = {}
  for name in names:
    if name in sums:
      dtype = np.dtype(current[name].dtype)
      out[name] = (sums[name] / len(paths)).astype(dtype)
    else:
      out[name] = last[name]
  return out


def restore_average(model, paths):
  """Sets the model's variables (model built) to the mean over `paths`;
  returns the averaged values by structural key."""
  values = average_values(model, paths)
  for name, var in model_lib.structured_variables(model).items():
    var.assign(values[name])
  return values


def _step_of(path):
  m = re.search(r"-(\d+)$", path)
  return int(m.group(1)) if m else 0


def write_average(output_dir, n, averaged_dir, checkpoint=None):
  """Writes the average of the run's last `n` checkpoints (ending at
  `checkpoint` if given) as a run of its own in `averaged_dir`: its
  t2tlite_run.json and vocabularies, and one checkpoint (model variables
  only, numbered as the newest averaged one). Returns its path."""
  from t2tlite import registry  # pylint: disable=import-outside-toplevel
  cfg = run_config.read(output_dir)
  if cfg is None:
    raise AverageError(f"{output_dir} holds no trained model (no "
                       f"{run_config.CONFIG_NAME})")
  if _same(output_dir, averaged_dir):
    raise AverageError("--averaged_dir must be a new directory, not the "
                       "run's own output_dir")
  if os.path.isdir(averaged_dir) and os.listdir(averaged_dir):
    raise AverageError(f"{averaged_dir} already exists and is not empty; "
                       "write the average to a new directory")
  paths = last_checkpoints(output_dir, n, checkpoint)
  model = registry.model(cfg["model"])(cfg["hparams"], cfg["specs"])
  model_lib.set_precision(model, "")
  model.build_from_specs()
  restore_average(model, paths)
  os.makedirs(averaged_dir, exist_ok=True)
  for name in sorted(os.listdir(output_dir)):
    if name == run_config.CONFIG_NAME or (name.startswith("vocab.") and
                                          name.endswith(".model")):
      shutil.copyfile(os.path.join(output_dir, name),
                      os.path.join(averaged_dir, name))
  ckpt = tf.train.Checkpoint(model=model_lib.variable_map(model))
  manager = tf.train.CheckpointManager(ckpt, averaged_dir, max_to_keep=1)
  path = manager.save(checkpoint_number=_step_of(paths[-1]))
  with open(os.path.join(averaged_dir, AVERAGED_NAME), "w") as f:
    json.dump({"output_dir": os.path.abspath(output_dir),
               "checkpoints": [os.path.basename(p) for p in paths]}, f,
              indent=1)
  return path
