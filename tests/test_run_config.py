"""Resuming an output_dir: what counts as the same run."""
import json

import pytest

import t2tlite  # noqa: F401
from t2tlite import registry
from t2tlite import run_config
from t2tlite.hparams_lib import HParams


def _stored(hparams, edit):
  """A run config as an older release wrote it: `edit` changes its JSON."""
  data = json.loads(hparams.to_json())
  edit(data)
  return {"model": "transformer", "hparams_set": "transformer_tiny",
          "hparams": HParams.from_json(json.dumps(data)), "specs": [],
          "problems": []}


def _old_bool_precision(data):
  data["values"]["mixed_precision"] = False
  data["types"]["mixed_precision"] = "bool"
  for part in ("values", "types"):
    del data[part]["jit_compile"]


def test_older_run_resumes_with_new_settings_at_their_defaults():
  hp = registry.hparams("transformer_tiny")
  old = _stored(hp, _old_bool_precision)
  run_config.check_resume(old, "transformer", hp, [], [])  # no error


@pytest.mark.parametrize("change,needle", [
    ({"mixed_precision": "bfloat16"}, "mixed_precision"),
    ({"jit_compile": True}, "jit_compile"),
    ({"hidden_size": 64}, "hidden_size"),
])
def test_older_run_refuses_a_changed_setting(change, needle):
  hp = registry.hparams("transformer_tiny")
  old = _stored(hp, _old_bool_precision)
  with pytest.raises(run_config.ConfigError, match=needle):
    run_config.check_resume(old, "transformer", hp.replace(**change), [], [])


def test_another_model_is_refused():
  hp = registry.hparams("transformer_tiny")
  old = _stored(hp, lambda d: None)
  with pytest.raises(run_config.ConfigError, match="model 'transformer'"):
    run_config.check_resume(old, "multimodel", hp, [], [])
