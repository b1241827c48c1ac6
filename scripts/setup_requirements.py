"""The requirements setup.py declares, without installing or building it.

  python scripts/setup_requirements.py [EXTRA ...]

prints install_requires and then each named extra's requirements (e.g.
`test`), one a line, as setup.py writes them. Runs setup.py with
setuptools.setup replaced by a function that records its arguments, so it
needs setuptools and nothing else (scripts/refresh_constraints.sh and
tests/test_constraints.py use it).
"""
import os
import runpy
import sys
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def setup_kwargs(path=os.path.join(ROOT, "setup.py")):
  """The keyword arguments setup.py passes to setuptools.setup."""
  seen = {}
  with mock.patch("setuptools.setup", lambda **kw: seen.update(kw)):
    cwd = os.getcwd()
    os.chdir(os.path.dirname(path))
    try:
      runpy.run_path(path, run_name="__main__")
    finally:
      os.chdir(cwd)
  return seen


def requirements(extras=(), path=os.path.join(ROOT, "setup.py")):
  kw = setup_kwargs(path)
  out = list(kw.get("install_requires", []))
  for extra in extras:
    out += kw.get("extras_require", {})[extra]
  return out


def main():
  print("\n".join(requirements(sys.argv[1:])))


if __name__ == "__main__":
  main()
