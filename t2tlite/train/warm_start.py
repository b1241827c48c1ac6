"""Warm start: a new run starts from another run's trained model.

`t2tlite-trainer --warm_start_from=OTHER_OUTPUT_DIR` (Trainer's
warm_start_from) loads, from OTHER's newest checkpoint, every variable of
the new model that OTHER's model has: the shared body (encoder, mixer,
decoder, task tokens) and the modality nets of the modality keys both runs
have (modality, vocabulary or label-set name, size; see
T2TModel.modality_key). Modality nets only the new run has start fresh, as
do the optimiser's state and the step. A run that already has a checkpoint
resumes from it instead: the warm start applies to a run's first start only.

Checkpoint keys follow the order of the layers (structured_variables), and
a model built for other problems may hold its modality nets in another
order, so the two models are matched layer by layer rather than key by key:
a top-level layer held in a dict attribute (modality_nets, ctc_heads) by
its attribute and dict key, every other top-level layer (the body) by its
position among those and its class, and the variables inside matched
layers by their structural keys. Task-token embeddings follow their token
names, should the two runs number a token differently. A variable whose
shape differs, a body layer or variable the other model lacks, another
model class, or a vocabulary of the same name with other contents is an
error (WarmStartError, a ConfigError: one line, exit 2) naming it.
"""
import json
import logging
import os

import keras
import numpy as np
import tensorflow as tf

from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.train import run_config
from t2tlite.data import vocab as vocab_lib

log = logging.getLogger("t2tlite")

RECORD_NAME = "warm_start.json"


class WarmStartError(run_config.ConfigError):
  """The other run cannot warm-start this model."""


def check_source(from_dir, model_name, output_dir=None):
  """The cheap checks, before a trainer writes anything: `from_dir` is a
  trained run of the same model (not output_dir itself) with a checkpoint.
  Returns (its run config, its newest checkpoint)."""
  if output_dir and os.path.abspath(from_dir) == os.path.abspath(output_dir):
    raise WarmStartError("--warm_start_from names the run's own output_dir; "
                         "rerunning into an output_dir resumes it")
  cfg = run_config.read(from_dir)
  if cfg is None:
    raise WarmStartError(f"--warm_start_from={from_dir} holds no trained "
                         f"model (no {run_config.CONFIG_NAME})")
  ckpt = tf.train.latest_checkpoint(from_dir)
  if ckpt is None:
    raise WarmStartError(f"--warm_start_from={from_dir} holds no checkpoint")
  if model_name is not None and (registry.model(cfg["model"]) is not
                                 registry.model(model_name)):
    raise WarmStartError(f"--warm_start_from={from_dir} is a {cfg['model']} "
                         f"run; this run trains {model_name}: a warm start "
                         "needs the same model")
  return cfg, ckpt


def _top_level(model):
  """[(identity, layer)] of the model's direct sublayers, in the order of
  their structural keys ("k." is the k-th). A layer held in a dict
  attribute is named by it ("modality_nets[text|vocab|size]"); the others
  by their position among the rest and their class ("body 3 Conv")."""
  named = {}
  for attr, value in vars(model).items():
    if attr.startswith("_") or not isinstance(value, dict):
      continue
    for key, layer in value.items():
      if isinstance(layer, keras.layers.Layer):
        named[id(layer)] = f"{attr}[{key}]"
  out, body = [], 0
  for layer in model._layers:  # pylint: disable=protected-access
    ident = named.get(id(layer))
    if ident is None:
      ident = f"body {body} {type(layer).__name__}"
      body += 1
    out.append((ident, layer))
  return out


def _is_seed(rel_key):
  # A dropout seed generator's state ("...seed0"): the new run keeps its own.
  return rel_key.rsplit(".", 1)[-1].startswith("seed")


def match_variables(model, other):
  """Pairs the variables of `model` with those of `other` (both built).

  Returns (pairs, new): pairs [(key, variable, other key, other variable,
  identity)] by structural key; new {identity: [keys]} of the layers only
  `model` has. WarmStartError if a body layer or a variable of a matched
  layer has no counterpart, or shapes differ.
  """
  mine = _top_level(model)
  theirs = dict(_top_level(other))
  pairs, new = [], {}
  own = model_lib.structured_variables(model)
  other_own = model_lib.structured_variables(other)
  # The model's own variables, if any, outside every sublayer.
  for key, var in own.items():
    if "." not in key and not _is_seed(key):
      if key not in other_own:
        raise WarmStartError(f"variable {key} of this model is not in the "
                             "warm-start run's model")
      pairs.append((key, var, key, other_own[key], "model"))
  other_index = {id(l): k for k, l in enumerate(other._layers)}  # pylint: disable=protected-access
  for k, (ident, layer) in enumerate(mine):
    variables = model_lib.structured_variables(layer, f"{k}.")
    if not variables:
      continue
    if ident not in theirs:
      if ident.startswith("body "):
        raise WarmStartError(
            f"this model's layer {k} ({ident}) has no counterpart in the "
            "warm-start run's model: the two models differ (another model "
            "or hparams)")
      new[ident] = list(variables)
      continue
    j = other_index[id(theirs[ident])]
    other_vars = model_lib.structured_variables(theirs[ident], f"{j}.")
    for key, var in variables.items():
      rel = key[len(f"{k}."):]
      if _is_seed(rel):
        continue
      other_key = f"{j}.{rel}"
      if other_key not in other_vars:
        raise WarmStartError(
            f"variable {key} ({ident}) is not in the warm-start run's "
            "model: the two models differ (another model or hparams)")
      pairs.append((key, var, other_key, other_vars[other_key], ident))
    # And nothing of the other layer is left out.
    rels = {key[len(f"{k}."):] for key in variables}
    extra = [key for key in other_vars
             if key[len(f"{j}."):] not in rels]
    if extra:
      raise WarmStartError(
          f"the warm-start run's {ident} has variables this model's lacks "
          f"({', '.join(extra[:3])}): the two models differ")
  return pairs, new


def _check_vocabularies(from_dir, output_dir, idents):
  """A vocabulary of one name must be the same file in both runs, or its
  embeddings would not mean the same tokens."""
  if not output_dir:
    return
  for ident in idents:
    if not ident.startswith("modality_nets["):
      continue
    modality, name, _ = ident[len("modality_nets["):-1].split("|", 2)
    if modality == "class_label" or not name:
      continue
    a = vocab_lib.vocab_path(from_dir, name)
    b = vocab_lib.vocab_path(output_dir, name)
    if os.path.exists(a) and os.path.exists(b):
      with open(a, "rb") as fa, open(b, "rb") as fb:
        if fa.read() != fb.read():
          raise WarmStartError(
              f"vocabulary {name} of --warm_start_from={from_dir} differs "
              f"from this run's (same name, other pieces): its modality "
              "net would not mean the same tokens; use the same data_dir's "
              "vocabulary or another vocabulary name")


def _remap_task_tokens(model, other, pairs):
  """Rows of the task-token table follow their token names."""
  mine = getattr(model, "task_embedding", None)
  theirs = getattr(other, "task_embedding", None)
  if mine is None or theirs is None or not mine.weights:
    return
  old_ids = {s.task_token: s.task_token_id for s in other.specs.values()}
  moves = {s.task_token_id: old_ids[s.task_token]
           for s in model.specs.values()
           if s.task_token in old_ids and
           old_ids[s.task_token] != s.task_token_id}
  if not moves:
    return
  table = mine.embeddings
  if not any(var is table for _, var, _, _, _ in pairs):
    return
  values = np.array(table.numpy())
  old = np.asarray(theirs.embeddings.numpy())
  for new_id, old_id in moves.items():
    values[new_id] = old[old_id]
  table.assign(values)
  log.info("warm start: task tokens renumbered (%s)", ", ".join(
      f"{old_id}->{new_id}" for new_id, old_id in sorted(moves.items())))


def warm_start(model, from_dir, model_name=None, output_dir=None):
  """Loads into `model` (built) every variable the model of the run in
  `from_dir` has, from its newest checkpoint. Returns a record: the
  checkpoint, the layers loaded and the layers that start fresh."""
  cfg, ckpt = check_source(from_dir, model_name, output_dir)
  other = registry.model(cfg["model"])(cfg["hparams"], cfg["specs"])
  model_lib.set_precision(other, "")
  other.build_from_specs()
  try:
    model_lib.restore_weights(other, ckpt)
  except model_lib.RestoreError as e:
    raise WarmStartError(f"--warm_start_from={from_dir}: {e}") from None
  pairs, new = match_variables(model, other)
  loaded = list(dict.fromkeys(ident for _, _, _, _, ident in pairs))
  _check_vocabularies(from_dir, output_dir, loaded)
  for key, var, other_key, other_var, ident in pairs:
    if tuple(var.shape) != tuple(other_var.shape):
      raise WarmStartError(
          f"variable {key} ({ident}) has shape {tuple(var.shape)} in this "
          f"model but {tuple(other_var.shape)} (as {other_key}) in {ckpt}: "
          "a warm start needs the same sizes (hparams such as "
          "hidden_size)")
  for _, var, _, other_var, _ in pairs:
    var.assign(other_var.numpy())
  _remap_task_tokens(model, other, pairs)
  record = {"from": os.path.abspath(from_dir),
            "checkpoint": os.path.abspath(ckpt),
            "model": cfg["model"], "problems": cfg["problems"],
            "variables_loaded": len(pairs),
            "layers_loaded": loaded, "layers_new": list(new)}
  log.info("warm start from %s: %d variables of %d layers loaded; new: %s",
           ckpt, len(pairs), len(loaded), ", ".join(new) or "none")
  return record


def warm_start_trainer(trainer, from_dir, created_config):
  """Trainer's warm start (its model built, no checkpoint of its own
  restored). On error, a run config this trainer just wrote is removed,
  so the same output_dir can be started again with other flags."""
  try:
    record = warm_start(trainer.model, from_dir, trainer.model_name,
                        trainer.output_dir)
  except WarmStartError:
    if created_config and trainer.is_chief and not tf.train.latest_checkpoint(
        trainer.output_dir):
      try:
        os.remove(run_config.config_path(trainer.output_dir))
      except OSError:
        pass
    raise
  if trainer.is_chief:
    with open(os.path.join(trainer.output_dir, RECORD_NAME), "w") as f:
      json.dump(record, f, indent=1)
  return record
