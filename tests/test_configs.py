"""Settings split by who reads them: the data and run views of a
registered hparams set, frozen, with no defaults of their own, and an old
run's settings still readable through them."""
import dataclasses

import pytest

from t2tlite import configs
from t2tlite import model as model_lib
from t2tlite import registry
from t2tlite.hparams_lib import HParams


def test_views_take_every_value_from_the_hparams_set():
  hp = registry.hparams("multimodel_chars").override(
      "batch_size=512,audio_max_frames=700,seed=7,jit_compile=true")
  data, run = configs.data_config(hp), configs.run_config(hp)
  for view in (data, run):
    for f in dataclasses.fields(view):
      assert getattr(view, f.name) == getattr(hp, f.name), f.name
  assert (data.batch_size, data.audio_max_frames, run.seed,
          run.jit_compile) == (512, 700, 7, True)
  # The data view holds no model setting, the run view no data setting.
  assert not hasattr(data, "hidden_size") and not hasattr(run, "batch_size")
  with pytest.raises(dataclasses.FrozenInstanceError):
    data.batch_size = 1
  # No second home for a default: a view cannot be built without values.
  with pytest.raises(TypeError):
    configs.DataConfig()


def test_a_setting_missing_from_the_hparams_is_an_error_not_a_default():
  with pytest.raises(AttributeError, match="image_batch_size"):
    configs.data_config(HParams(batch_size=1, max_length=2))


def test_an_old_runs_boolean_precision_still_reads():
  # What t2tlite_run.json held before precision was named: a bool.
  old = dict(registry.hparams("transformer_tiny").values(),
             mixed_precision=True)
  hp = HParams(**old)
  run = configs.run_config(hp)
  assert model_lib.dtype_policy_name(run.mixed_precision) == "mixed_bfloat16"
