"""Registry aliases: another name for a registered problem (or model,
hparams set), e.g. translate_ende for translate_ende_ddtp."""
import pytest

import t2tlite  # noqa: F401  (registers the built-ins)
from t2tlite import registry
from t2tlite.data import text_problem


def test_translate_ende_and_enfr_are_the_ddtp_problems_under_t2t_names():
  for alias, target, lang in (("translate_ende", "translate_ende_ddtp", "de"),
                              ("translate_enfr", "translate_enfr_ddtp",
                               "fr")):
    a, t = registry.problem(alias), registry.problem(target)
    assert isinstance(a, type(t)) and a.target_lang == lang
    assert a.name == alias and t.name == target
    # Same files, same vocabulary, same task.
    assert a.data_name == t.data_name == target
    assert a.vocab_key == t.vocab_key == "shared_subword_8k"
    assert a.task_token == t.task_token == f"to_{lang}"
    rev = registry.problem(alias + "_rev")
    assert rev.name == alias + "_rev" and rev.reversed
    assert rev.data_name == target
    assert rev.task_token == registry.problem(target + "_rev").task_token
    assert registry.canonical_problem_name(alias) == target
    assert registry.canonical_problem_name(alias + "_rev") == target + "_rev"
    assert registry.problems.is_alias(alias) and alias in registry.problems
    assert registry.problems.aliases()[alias] == target
  # Aliases are not problems of their own: names() lists each problem once.
  assert "translate_ende" not in registry.problems.names()


def test_alias_instances_share_one_class():
  # Stable across lookups, and documented as the alias it is.
  a = registry.problem("translate_ende")
  assert type(a) is type(registry.problem("translate_ende_rev"))
  assert type(a).alias_name == "translate_ende"
  assert "another name of problem 'translate_ende_ddtp'" in type(a).__doc__


@pytest.fixture
def scratch_problem():
  @registry.register_problem("tmp_alias_target")
  class _P(text_problem.Text2TextProblem):
    """A scratch problem."""
    source_lang, target_lang = "en", "de"

  yield _P
  for name in ("tmp_alias_target", "tmp_alias", "tmp_alias2", "tmp_late",
               "tmp_cycle_a", "tmp_cycle_b"):
    registry.problems.unregister(name)


def test_alias_of_an_alias_and_a_late_target(scratch_problem):
  registry.register_problem_alias("tmp_alias", "tmp_alias_target")
  registry.register_problem_alias("tmp_alias2", "tmp_alias")
  p = registry.problem("tmp_alias2")
  assert p.name == "tmp_alias2" and p.data_name == "tmp_alias_target"
  # The target may be registered after the alias (resolved at lookup).
  registry.register_problem_alias("tmp_late", "tmp_late_target")
  with pytest.raises(registry.RegistryError, match="which is not registered"):
    registry.problem("tmp_late")
  assert "tmp_late" not in registry.problems
  assert "tmp_late  (alias of tmp_late_target, which is not registered)" in (
      registry.help_text())

  @registry.register_problem("tmp_late_target")
  class _Late(scratch_problem):
    pass

  try:
    assert registry.problem("tmp_late").data_name == "tmp_late_target"
  finally:
    registry.problems.unregister("tmp_late_target")


def test_alias_errors(scratch_problem):
  registry.register_problem_alias("tmp_alias", "tmp_alias_target")
  with pytest.raises(registry.RegistryError, match="already registered"):
    registry.register_problem_alias("tmp_alias", "translate_ende_ddtp")
  with pytest.raises(registry.RegistryError, match="already registered"):
    registry.register_problem_alias("tmp_alias_target", "translate_ende_ddtp")
  with pytest.raises(registry.RegistryError, match="as an alias"):
    registry.register_problem("tmp_alias")(scratch_problem)
  with pytest.raises(registry.RegistryError, match="two different"):
    registry.register_problem_alias("tmp_alias2", "tmp_alias2")
  registry.register_problem_alias("tmp_cycle_a", "tmp_cycle_b")
  registry.register_problem_alias("tmp_cycle_b", "tmp_cycle_a")
  with pytest.raises(registry.RegistryError, match="cycle"):
    registry.problem("tmp_cycle_a")
  # Unknown names suggest aliases too.
  with pytest.raises(registry.RegistryError, match="did you mean tmp_alias"):
    registry.problem("tmp_alia")


def test_model_and_hparams_aliases():
  registry.register_model_alias("tmp_model_alias", "transformer")
  registry.register_hparams_alias("tmp_hp_alias", "transformer_tiny")
  try:
    assert registry.model("tmp_model_alias") is registry.model("transformer")
    assert registry.hparams("tmp_hp_alias").values() == registry.hparams(
        "transformer_tiny").values()
    text = registry.help_text()
    assert "  tmp_model_alias  (alias of transformer)" in text
    assert "  tmp_hp_alias  (alias of transformer_tiny)" in text
  finally:
    registry.models.unregister("tmp_model_alias")
    registry.hparams_sets.unregister("tmp_hp_alias")
