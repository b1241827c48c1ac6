"""--usr_dir imports the user's own directory, never a namesake."""
import importlib
import sys

import pytest

from t2tlite import registry
from t2tlite import usr_dir


def _usr_package(root, name, problem_name):
  pkg = root / name
  pkg.mkdir(parents=True)
  (pkg / "__init__.py").write_text(
      "from t2tlite import registry\n"
      "from t2tlite.data import problem\n"
      f"@registry.register_problem('{problem_name}')\n"
      "class P(problem.Problem):\n"
      "  pass\n")
  return pkg


@pytest.fixture
def forget(request):
  names = []
  yield names.append
  for n in names:
    sys.modules.pop(n, None)


def test_same_directory_twice_is_one_import(tmp_path, forget):
  pkg = _usr_package(tmp_path, "usr_once_a1", "usr_once_problem")
  forget("usr_once_a1")
  first = usr_dir.import_usr_dir(str(pkg))
  assert usr_dir.import_usr_dir(str(pkg)) is first
  assert "usr_once_problem" in registry.problems


def test_namesake_from_another_path_is_an_error(tmp_path, forget):
  one = _usr_package(tmp_path / "one", "usr_twin_b2", "usr_twin_one")
  two = _usr_package(tmp_path / "two", "usr_twin_b2", "usr_twin_two")
  forget("usr_twin_b2")
  usr_dir.import_usr_dir(str(one))
  with pytest.raises(usr_dir.UsrDirError) as e:
    usr_dir.import_usr_dir(str(two))
  msg = str(e.value)
  assert str(two) in msg and str(one) in msg and "rename" in msg
  # The second directory's code never ran.
  assert "usr_twin_two" not in registry.problems


def test_directory_named_like_a_loaded_module_is_refused(tmp_path):
  importlib.import_module("json")
  pkg = _usr_package(tmp_path, "json", "usr_json_problem")
  with pytest.raises(usr_dir.UsrDirError, match="already imported"):
    usr_dir.import_usr_dir(str(pkg))
  assert sys.modules["json"].__name__ == "json"
  assert "usr_json_problem" not in registry.problems


def test_cli_reports_the_clash_in_one_line(tmp_path, capsys):
  pkg = _usr_package(tmp_path, "json", "usr_json_cli")
  mod = importlib.import_module("t2tlite.bin.t2t_datagen")
  with pytest.raises(SystemExit) as e:
    mod.run(["t2t_datagen", "--problem=x", "--data_dir=/tmp/x",
             f"--usr_dir={pkg}"])
  lines = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
  assert e.value.code == 2 and len(lines) == 1, lines
  assert "already imported" in lines[0]
