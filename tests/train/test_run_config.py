"""Resuming an output_dir: what counts as the same run."""
import json

import pytest

import t2tlite  # noqa: F401
from t2tlite import registry
from t2tlite.train import run_config
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


def test_a_run_written_before_a_setting_existed_reads_back_with_its_default(
    tmp_path):
  """One reader fills what an old t2tlite_run.json lacks with the library's
  defaults (no reader of a setting keeps a fallback of its own), and the
  run still resumes and builds."""
  from t2tlite import hparams_lib
  from t2tlite.data.problem import ProblemSpec
  hp = registry.hparams("multimodel_tiny")
  data = json.loads(hp.to_json())
  for part in ("values", "types"):
    for key in ("ctc_weight", "audio_min_filters", "audio_freq_strides"):
      del data[part][key]
  spec = ProblemSpec("speech", "audio", 0, "", "text", 40, "v40",
                     "to_transcript_en", 9)
  (tmp_path / run_config.CONFIG_NAME).write_text(json.dumps({
      "model": "multimodel", "hparams_set": "multimodel_tiny",
      "hparams": json.dumps(data), "problems": ["speech"],
      "specs": [spec._asdict()], "data_dir": str(tmp_path),
      "vocabularies": {}}))
  cfg = run_config.read(str(tmp_path))
  assert cfg["hparams_filled"] == ["audio_freq_strides", "audio_min_filters",
                                   "ctc_weight"]
  defaults = hparams_lib.defaults()
  for key in cfg["hparams_filled"]:
    assert getattr(cfg["hparams"], key) == getattr(defaults, key)
  run_config.check_resume(cfg, "multimodel", hp, [], [spec])
  model = registry.model("multimodel")(cfg["hparams"], cfg["specs"])
  assert not model.ctc_heads  # ctc_weight 0: the old run had no CTC head
  # A set lacking a setting is an error naming it, not a silent default.
  from t2tlite.modalities import audio as audio_mod
  with pytest.raises(AttributeError, match="audio_blocks"):
    audio_mod.AudioSpectralModality(HParams(hidden_size=16), 0)
