"""constraints.txt pins the install (issue 33 §6): every dependency setup.py
declares (install_requires and the test extra) has an exact `==` version
there, within setup.py's own range; scripts/setup_env.sh installs with it;
and the README names the versions it pins for TensorFlow, Keras,
sentencepiece and sacrebleu."""
import os
import re
import subprocess
import sys

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import setup_requirements  # noqa: E402  pylint: disable=wrong-import-position

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def pins(path=os.path.join(ROOT, "constraints.txt")):
  """{canonical name: version} of constraints.txt; each line a comment or a
  `name==version` pin."""
  out = {}
  with open(path, encoding="utf-8") as f:
    for number, line in enumerate(f, 1):
      line = line.strip()
      if not line or line.startswith("#"):
        continue
      m = PIN.match(line)
      assert m, f"constraints.txt:{number}: not name==version: {line!r}"
      name = canonicalize_name(m.group(1))
      assert name not in out, f"constraints.txt:{number}: {name} twice"
      out[name] = m.group(2)
  return out


def declared():
  return [Requirement(r) for r in setup_requirements.requirements(["test"])]


def test_every_declared_dependency_is_pinned_exactly_within_its_range():
  pinned = pins()
  reqs = declared()
  names = {canonicalize_name(r.name) for r in reqs}
  assert {"tensorflow", "sentencepiece", "sacrebleu", "pytest",
          "tensorflow-text"} <= names  # setup.py was read
  for req in reqs:
    name = canonicalize_name(req.name)
    assert name in pinned, f"{req} is not pinned (==) in constraints.txt"
    assert req.specifier.contains(Version(pinned[name]), prereleases=True), (
        f"constraints.txt pins {name}=={pinned[name]}, outside setup.py's "
        f"{req}")


def test_keras_is_pinned_too_and_t2tlite_is_not():
  pinned = pins()
  assert "keras" in pinned  # TensorFlow's, not declared: still pinned
  assert "t2tlite" not in pinned


def test_setup_env_installs_with_the_constraints():
  with open(os.path.join(ROOT, "scripts", "setup_env.sh")) as f:
    text = f.read()
  assert 'CONSTRAINTS="$ROOT/constraints.txt"' in text
  assert re.search(r'pip install -q -c "\$CONSTRAINTS" -e "\$ROOT\[test\]"',
                   text)
  # A refreshed constraints.txt reinstalls, as a changed setup.py does.
  assert '"$CONSTRAINTS" -nt "$STAMP"' in text


@pytest.mark.parametrize("script", ["setup_env.sh", "refresh_constraints.sh"])
def test_the_scripts_parse(script):
  subprocess.run(["bash", "-n", os.path.join(ROOT, "scripts", script)],
                 check=True)


def test_the_readme_names_the_pinned_versions_and_the_refresh_command():
  with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
    readme = f.read()
  pinned = pins()
  for label, name in (("TensorFlow", "tensorflow"), ("Keras", "keras"),
                      ("sentencepiece", "sentencepiece"),
                      ("sacrebleu", "sacrebleu")):
    assert f"{label} {pinned[name]}" in readme, (
        f"the README should name {label} {pinned[name]} (constraints.txt)")
  assert "bash scripts/refresh_constraints.sh" in readme


def test_the_requirement_reader_sees_extras():
  base = setup_requirements.requirements()
  with_test = setup_requirements.requirements(["test"])
  assert base and with_test[:len(base)] == base
  assert any(r.startswith("pytest") for r in with_test[len(base):])
  with pytest.raises(KeyError):
    setup_requirements.requirements(["no_such_extra"])
