"""What a training run records in its output_dir, and checks on resume.

The trainer writes the model name, the resolved hparams, the problems (with
the specs the model was built from) and a copy of each vocabulary into
output_dir. The decoder, and any later run on the same output_dir, reload
them: decoding never needs the training flags again, and a conflicting
setting is an error rather than a silently different model.
"""
import json
import os
import shutil

from t2tlite.data import data_io
from t2tlite import errors
from t2tlite import hparams_lib
from t2tlite.data import problem as problem_lib
from t2tlite.data import vocab as vocab_lib
from t2tlite.hparams_lib import HParams

CONFIG_NAME = "t2tlite_run.json"


class ConfigError(errors.UserError, ValueError):
  """An output_dir that does not match the requested run."""


def config_path(output_dir):
  return os.path.join(output_dir, CONFIG_NAME)


def read(output_dir):
  path = config_path(output_dir)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    cfg = json.load(f)
  # A run written before a setting existed gets that setting's default,
  # the value its code used (see hparams_lib.fill_defaults).
  cfg["hparams"], cfg["hparams_filled"] = hparams_lib.fill_defaults(
      HParams.from_json(cfg["hparams"]))
  cfg["specs"] = [problem_lib.ProblemSpec(**s) for s in cfg["specs"]]
  return cfg


def write(output_dir, model, hparams_set, hparams, problems, specs, data_dir):
  os.makedirs(output_dir, exist_ok=True)
  vocabs = {}
  for p, spec in zip(problems, specs):
    for modality, name in ((spec.input_modality, spec.input_vocab_name),
                           (spec.target_modality, spec.target_vocab_name)):
      if modality == "class_label" or not vocab_lib.has_file(name):
        continue  # a label set's names and bytes are built in, not a file
      if name and name not in vocabs:
        src = vocab_lib.vocab_path(data_dir, name)
        dst = vocab_lib.vocab_path(output_dir, name)
        if os.path.abspath(src) != os.path.abspath(dst):
          shutil.copyfile(src, dst + ".tmp")
          os.replace(dst + ".tmp", dst)
        vocabs[name] = {"source": os.path.abspath(src), "copy": dst}
  cfg = {"model": model, "hparams_set": hparams_set,
         "hparams": hparams.to_json(),
         "problems": [p.name for p in problems],
         "specs": [s._asdict() for s in specs],
         "data_dir": os.path.abspath(data_dir), "vocabularies": vocabs}
  data_io.write_json(config_path(output_dir), cfg, indent=1)


def check_resume(existing, model, hparams, problems, specs):
  """Raises ConfigError if a run on this output_dir was a different one."""
  if existing["model"] != model:
    raise ConfigError(f"output_dir was trained with model "
                      f"'{existing['model']}', not '{model}'")
  old = _normalized(_stored_values(existing))
  new = _normalized(hparams.values())
  added = _added_since(existing, new)
  diff = sorted(k for k in set(old) | set(new)
                if old.get(k) != new.get(k) and k not in added)
  if diff:
    k = diff[0]
    raise ConfigError(f"output_dir was trained with {k}={old.get(k)!r}; "
                      f"this run asks for {k}={new.get(k)!r} "
                      "(use a new output_dir to change hparams)")
  old_specs = {s.name: s for s in existing["specs"]}
  for s in specs:
    if s.name not in old_specs:
      raise ConfigError(f"output_dir was trained on "
                        f"{'-'.join(existing['problems'])}, not on {s.name}")
    if not same_spec(old_specs[s.name], s):
      raise ConfigError(f"problem {s.name} differs from the one output_dir "
                        f"was trained on (vocabulary or modality changed): "
                        f"{old_specs[s.name]} vs {s}")


def same_spec(old, new):
  """Whether a run's stored spec and today's describe the same problem.

  Runs written before specs named class-label sets stored "" there; such a
  run resumes and decodes with its old spec (its label nets keyed as then).
  """
  if old == new:
    return True
  fixed = old
  for side in ("input", "target"):
    if (getattr(old, f"{side}_modality") == "class_label" and
        getattr(old, f"{side}_vocab_name") == ""):
      fixed = fixed._replace(**{
          f"{side}_vocab_name": getattr(new, f"{side}_vocab_name")})
  return fixed == new


def _normalized(values):
  """Equal settings spelled differently compare equal: mixed_precision was
  a bool before it named a precision (False is "", True is "bfloat16")."""
  from t2tlite import model as model_lib  # pylint: disable=import-outside-toplevel
  values = dict(values)
  if "mixed_precision" in values:
    values["mixed_precision"] = model_lib.dtype_policy_name(
        values["mixed_precision"])
  return values


def _stored_values(existing):
  """The hparams the run's config holds, without those read() filled
  in with today's defaults."""
  filled = set(existing.get("hparams_filled", ()))
  return {k: v for k, v in existing["hparams"].values().items()
          if k not in filled}


def _added_since(existing, new):
  """Hparams this version has that the run's did not, left at their
  defaults: a release that adds a setting keeps its old behaviour as the
  default, so an older output_dir still resumes (and decodes)."""
  from t2tlite import registry  # pylint: disable=import-outside-toplevel
  old = _stored_values(existing)
  try:
    defaults = registry.hparams(existing["hparams_set"]).values()
  except Exception:  # pylint: disable=broad-except
    return set()   # unknown set (a usr_dir not loaded): nothing is waived
  return {k for k in new if k not in old and k in defaults and
          new[k] == defaults[k]}
