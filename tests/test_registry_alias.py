"""Registry aliases: another name for a registered problem (or model,
hparams set), e.g. translate_ende for translate_ende_ddtp."""
import importlib
import json
import os

import pytest

from conftest import USR_DIR, run_cli
import t2tlite  # noqa: F401  (registers the built-ins)
from t2tlite.data import problem as problem_lib
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
    assert problem_lib.data_name(a) == problem_lib.data_name(t) == target
    assert problem_lib.vocab_key(a) == problem_lib.vocab_key(t) == "shared_subword_8k"
    assert a.task_token == t.task_token == f"to_{lang}"
    rev = registry.problem(alias + "_rev")
    assert rev.name == alias + "_rev" and problem_lib.is_reversed(rev)
    assert problem_lib.data_name(rev) == target
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
  assert p.name == "tmp_alias2" and problem_lib.data_name(p) == "tmp_alias_target"
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
    assert problem_lib.data_name(registry.problem("tmp_late")) == "tmp_late_target"
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


# --- through the CLIs --------------------------------------------------------
def test_registry_help_lists_problem_aliases(capsys):
  mod = importlib.import_module("t2tlite.bin.t2t_datagen")
  with pytest.raises(SystemExit) as e:
    mod.run([mod.PROG, "--registry_help"])
  out = capsys.readouterr().out
  assert e.value.code == 0
  assert "  translate_ende  (alias of translate_ende_ddtp)" in out
  assert "  translate_enfr  (alias of translate_enfr_ddtp)" in out


def _alias_usr_dir(tmp_path):
  """A user dir that adds an alias of the example's zen_reverse."""
  pkg = tmp_path / "aliasusr"
  pkg.mkdir()
  (pkg / "__init__.py").write_text(
      "import sys\n"
      f"sys.path.insert(0, {os.path.dirname(USR_DIR)!r})\n"
      "import usr_dir_example  # noqa: F401 (registers zen_reverse)\n"
      "from t2tlite import registry\n"
      "registry.register_problem_alias('zen_flip', 'zen_reverse')\n")
  return f"--usr_dir={pkg}"


def test_problem_alias_end_to_end(zen_data, zen_run, tmp_path):
  alias_u = _alias_usr_dir(tmp_path)
  # The alias reads the target's files: nothing new to generate.
  again = run_cli("t2t_datagen", "--problem=zen_flip", alias_u,
                  f"--data_dir={zen_data}", f"--tmp_dir={zen_data}/tmp")
  assert "zen_reverse: all splits already present" in again.stderr
  out = str(tmp_path / "run")
  run_cli("t2t_trainer", "--problems=zen_flip", alias_u,
          "--model=transformer", "--hparams_set=zen_tiny",
          f"--data_dir={zen_data}", f"--output_dir={out}",
          "--train_steps=20", "--eval_every=20", "--eval_steps=1")
  cfg = json.load(open(os.path.join(out, "t2tlite_run.json")))
  assert cfg["problems"] == ["zen_flip"]
  src = tmp_path / "in.txt"
  src.write_text("Simple is better than complex.\nFlat is better than "
                 "nested.\n")
  decoded = {}
  for run_dir, problem in ((out, "zen_flip"), (out, "zen_reverse"),
                           (zen_run, "zen_flip")):
    proc = run_cli("t2t_decoder", alias_u, f"--output_dir={run_dir}",
                   f"--problem={problem}", f"--decode_from_file={src}",
                   "--decode_hparams=beam_size=1")
    assert len(proc.stdout.splitlines()) == 2
    decoded[run_dir, problem] = proc.stdout
  # Either name of the problem decodes a run trained on the other.
  assert decoded[out, "zen_flip"] == decoded[out, "zen_reverse"]

