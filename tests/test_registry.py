import pytest

import t2tlite  # noqa: F401
from t2tlite import registry
from t2tlite.data import codecs
from t2tlite.data import text_problem
from t2tlite.data import problem as problem_lib


def test_default_name_is_snake_case_and_explicit_name_wins():
  reg = registry.Registry("thing")

  @reg.register
  class TranslateEndeDdtp8k:
    pass

  @reg.register("custom")
  def some_function():
    pass

  assert reg.names() == ["custom", "translate_ende_ddtp8k"]
  assert reg.get("custom") is some_function


def test_duplicate_name_raises():
  reg = registry.Registry("thing")
  reg.register("a")(lambda: 1)
  with pytest.raises(registry.RegistryError, match="already registered"):
    reg.register("a")(lambda: 2)


def test_unknown_name_suggests_nearest():
  with pytest.raises(registry.RegistryError) as e:
    registry.hparams("transformer_tinny")
  assert "did you mean transformer_tiny" in str(e.value)
  with pytest.raises(registry.RegistryError):
    registry.model("no_such_model_at_all")


def test_rev_swaps_inputs_targets_and_task_token():

  @registry.register_problem("tmp_copy_for_rev_test")
  class _P(text_problem.Text2TextProblem):
    source_lang, target_lang = "en", "de"

  try:
    fwd = registry.problem("tmp_copy_for_rev_test")
    rev = registry.problem("tmp_copy_for_rev_test_rev")
    assert rev.name == "tmp_copy_for_rev_test_rev"
    assert problem_lib.data_name(rev) == problem_lib.data_name(fwd)  # same files
    ex = {"inputs": [5, 6, 1], "targets": [7, 1]}
    sides = codecs.for_problem(rev, None)
    out = {"inputs": sides.inputs.to_model(ex, None, False),
           "targets": sides.targets.to_model(ex, None, False)}
    assert out["inputs"] == [7, 1] and out["targets"] == [5, 6, 1]
    assert fwd.task_token == "to_de" and rev.reverse_task_token == "to_en"
  finally:
    registry.problems.unregister("tmp_copy_for_rev_test")


def test_a_misspelt_task_token_is_an_error_not_a_new_output_space():
  from t2tlite.problems import image_digits

  @registry.register_problem("tmp_misspelt_task_token")
  class _P(image_digits.ImageDigits):
    task_token = "to_digit_labl"

  try:
    with pytest.raises(registry.RegistryError,
                       match="unknown task token 'to_digit_labl'; did you "
                             "mean to_digit_label"):
      problem_lib.spec(registry.problem("tmp_misspelt_task_token"),
                       "/no/data_dir")
    assert "to_digit_labl" not in registry.task_tokens
    new = registry.register_task_token("to_sentiment_test")
    assert registry.register_task_token("to_sentiment_test") == new
    assert problem_lib.task_token_id("to_sentiment_test") == new
    # Built-in ids are stable: checkpoints index their table by them.
    assert problem_lib.task_token_id("to_de") == 2
  finally:
    registry.problems.unregister("tmp_misspelt_task_token")


def test_help_lists_every_kind():
  text = registry.help_text()
  for heading in ("problems:", "models:", "hparams sets:", "modalities:",
                  "vocabularies:", "task tokens:"):
    assert heading in text
  assert "transformer_tiny" in text
  assert "  shared_subword_8k" in text.split("vocabularies:")[1]


def test_vocabularies_are_registered_and_a_misspelt_one_is_an_error():
  from t2tlite.data import vocab
  from t2tlite.problems import ddtp
  with pytest.raises(registry.RegistryError,
                     match="unknown vocabulary .shared_subword_8c.; did you mean "
                           "shared_subword_8k"):
    vocab.vocab_spec("shared_subword_8c")
  spec = vocab.vocab_spec(ddtp.SHARED_VOCAB)
  # A module imported twice declares the same vocabulary again: allowed.
  assert vocab.register_vocab(ddtp.SHARED_VOCAB, spec.size, spec.text_fn,
                              symbols=spec.symbols) is spec
  with pytest.raises(registry.RegistryError, match="already registered"):
    vocab.register_vocab(ddtp.SHARED_VOCAB, spec.size + 1, spec.text_fn)


def test_import_t2tlite_imports_no_plugin_and_a_lookup_finds_them():
  import subprocess
  import sys
  code = ("import sys, t2tlite\n"
          "assert 't2tlite.problems' not in sys.modules\n"
          "assert 't2tlite.models' not in sys.modules\n"
          "from t2tlite import registry\n"
          "registry.problem('translate_ende_ddtp')\n"
          "registry.model('multimodel')\n"
          "registry.hparams('multimodel_small')\n"
          "print('ok')\n")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True, check=True)
  assert out.stdout.strip() == "ok"


def test_an_installed_package_adds_plugins_through_entry_points(
    tmp_path, monkeypatch):
  import importlib.metadata
  (tmp_path / "tmp_t2t_plugin.py").write_text(
      "from t2tlite import registry\n"
      "from t2tlite.problems import image_digits\n"
      "@registry.register_problem('tmp_plugin_digits')\n"
      "class Digits(image_digits.ImageDigits):\n"
      "  pass\n")
  monkeypatch.syspath_prepend(str(tmp_path))
  found = list(importlib.metadata.entry_points(group=registry.PLUGIN_GROUP))
  assert sorted(ep.value for ep in found if ep.value.startswith("t2tlite."))\
      == ["t2tlite.hparams", "t2tlite.models", "t2tlite.problems"]
  extra = importlib.metadata.EntryPoint(
      "digits", "tmp_t2t_plugin", registry.PLUGIN_GROUP)
  monkeypatch.setattr(importlib.metadata, "entry_points",
                      lambda group=None: found + [extra])
  monkeypatch.setitem(registry._plugins, "state", "unloaded")  # pylint: disable=protected-access
  try:
    assert registry.problem("tmp_plugin_digits").name == "tmp_plugin_digits"
  finally:
    registry.problems.unregister("tmp_plugin_digits")
  # Without t2tlite's own entry points (not installed with pip): one clear
  # error, not empty registries.
  monkeypatch.setattr(importlib.metadata, "entry_points",
                      lambda group=None: [])
  monkeypatch.setitem(registry._plugins, "state", "unloaded")  # pylint: disable=protected-access
  with pytest.raises(registry.RegistryError, match="install t2tlite"):
    registry.problem("translate_ende_ddtp")
