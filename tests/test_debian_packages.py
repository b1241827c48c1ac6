"""The Debian packages are one list (t2tlite/debian_packages.py): what
scripts/debian_deps.sh installs at setup and what each problem installs at
datagen are the same names."""
import ast
import glob
import os
import subprocess
import sys

import pytest

from t2tlite import debian_packages
from t2tlite import system_deps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL = {p for group in debian_packages.GROUPS.values() for p in group}


def _list(*args):
  return subprocess.run(["bash", os.path.join(ROOT, "scripts",
                                              "debian_deps.sh"), *args],
                        capture_output=True, text=True)


def _constants(tree):
  """Module-level NAME = literal assignments."""
  out = {}
  for node in tree.body:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
        isinstance(node.targets[0], ast.Name):
      try:
        out[node.targets[0].id] = ast.literal_eval(node.value)
      except ValueError:
        pass
  return out


def _installs():
  """[(file:line, packages)] of every ensure_debian_packages /
  ensure_debian_group call in the problems and the library."""
  files = (glob.glob(os.path.join(ROOT, "problems", "*.py")) +
           glob.glob(os.path.join(ROOT, "t2tlite", "**", "*.py"),
                     recursive=True))
  found = []
  for path in files:
    if path.endswith("system_deps.py"):
      continue
    with open(path, encoding="utf-8") as f:
      tree = ast.parse(f.read(), path)
    consts = _constants(tree)
    for node in ast.walk(tree):
      if not (isinstance(node, ast.Call) and
              isinstance(node.func, (ast.Attribute, ast.Name))):
        continue
      fname = getattr(node.func, "attr", None) or getattr(node.func, "id")
      if fname not in ("ensure_debian_packages", "ensure_debian_group"):
        continue
      where = f"{os.path.relpath(path, ROOT)}:{node.lineno}"
      arg = node.args[0]
      if fname == "ensure_debian_group":
        group = ast.literal_eval(arg)
        assert group in debian_packages.GROUPS, (where, group)
        found.append((where, tuple(debian_packages.GROUPS[group])))
      elif isinstance(arg, ast.Name):
        assert arg.id in consts, f"{where}: {arg.id} is not a module constant"
        found.append((where, tuple(consts[arg.id])))
      else:
        found.append((where, tuple(ast.literal_eval(arg))))
  return found


def test_debian_deps_sh_installs_the_listed_setups():
  for setup in ("test", "main"):
    out = _list("--list", setup)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == debian_packages.packages(setup)
  with open(os.path.join(ROOT, "scripts", "debian_deps.sh")) as f:
    script = f.read()
  assert not [p for p in ALL if p in script], "names stated twice"
  assert _list("--list", "nonsense").returncode == 2


def test_the_list_answers_without_tensorflow_or_the_venv(tmp_path):
  # debian_deps.sh runs `python3 t2tlite/debian_packages.py`: as a file it
  # must not import t2tlite (TensorFlow), so any python3 answers quickly.
  # Isolated, without site-packages, importing t2tlite would fail.
  out = subprocess.run([sys.executable, "-I", "-S",
                        os.path.join(ROOT, "t2tlite", "debian_packages.py"),
                        "main"], capture_output=True, text=True,
                       cwd=str(tmp_path))
  assert out.returncode == 0, out.stderr
  assert out.stdout.split() == debian_packages.packages("main")


def test_each_package_is_named_once_and_every_group_is_installed():
  names = [p for group in debian_packages.GROUPS.values() for p in group]
  assert len(names) == len(set(names))
  main = set(debian_packages.SETUPS["main"])
  assert set(debian_packages.SETUPS["test"]) <= main
  assert main == set(debian_packages.GROUPS)


def test_problems_install_exactly_a_listed_group():
  installs = _installs()
  assert len(installs) >= 5, installs  # tts, link grammar, svg, stamps, mnist
  groups = {tuple(g) for g in debian_packages.GROUPS.values()}
  for where, pkgs in installs:
    assert tuple(pkgs) in groups, (
        f"{where} installs {pkgs}: not a group of t2tlite/debian_packages.py"
        " (name the group with system_deps.ensure_debian_group)")
  used = {pkgs for _, pkgs in installs}
  with open(os.path.join(ROOT, "scripts", "speech_librivox.sh")) as f:
    assert "debian_packages.py\" librivox" in f.read()
  used.add(tuple(debian_packages.GROUPS["librivox"]))
  assert used == groups, "a group nothing installs"


def test_test_setup_covers_what_the_problems_install():
  test_setup = set(debian_packages.packages("test"))
  for where, pkgs in _installs():
    assert set(pkgs) <= test_setup, where


def test_unknown_group_is_an_error_naming_the_groups():
  with pytest.raises(KeyError, match="tts"):
    system_deps.ensure_debian_group("no_such_group", "a test")
  with pytest.raises(KeyError, match="setups: test, main"):
    debian_packages.packages("no_such_setup")
