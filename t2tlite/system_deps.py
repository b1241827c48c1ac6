"""Debian packages and optional Python packages that some problems need.

A problem calls these when it is used (datagen), never at import, so a
missing dependency never drops it from the registry; the error says exactly
what to install. The Debian packages are named once, by group, in
t2tlite/debian_packages.py (which scripts/debian_deps.sh reads too): a
problem installs its group with ensure_debian_group.
"""
import importlib
import os
import shutil
import subprocess
import sys

from t2tlite import errors
from t2tlite.debian_packages import GROUPS as DEBIAN_GROUPS  # noqa: F401


class MissingDependency(errors.UserError, RuntimeError):
  """A package a problem needs is not installed and cannot be installed."""


def _dpkg_installed(pkg):
  try:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                         capture_output=True, text=True, check=False)
  except FileNotFoundError:
    return False
  return "install ok installed" in out.stdout


_APT_UPDATED = [False]


def ensure_debian_packages(packages, why):
  """Installs missing Debian packages with apt-get when running as root.

  Anywhere else (not root, no apt) it raises MissingDependency with the
  command to run. Set T2TLITE_NO_APT=1 to forbid installing.
  """
  missing = [p for p in packages if not _dpkg_installed(p)]
  if not missing:
    return
  cmd = "apt-get install -y " + " ".join(missing)
  can = (shutil.which("apt-get") and hasattr(os, "geteuid") and
         os.geteuid() == 0 and not os.environ.get("T2TLITE_NO_APT"))
  if not can:
    raise MissingDependency(f"{why} needs the Debian packages "
                            f"{', '.join(missing)}: run `sudo {cmd}`")
  print(f"installing {', '.join(missing)} for {why} ...", file=sys.stderr,
        flush=True)
  env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
  if not _APT_UPDATED[0]:
    subprocess.run(["apt-get", "update", "-qq"], env=env, check=False,
                   capture_output=True)
    _APT_UPDATED[0] = True
  proc = subprocess.run(["apt-get", "install", "-y", "-qq"] + missing,
                        env=env, capture_output=True, text=True)
  if proc.returncode != 0:
    raise MissingDependency(f"{why}: `{cmd}` failed: "
                            f"{proc.stderr.strip().splitlines()[-1:]}")


def debian_group(group):
  """The packages of a named group of t2tlite/debian_packages.py."""
  if group not in DEBIAN_GROUPS:
    raise KeyError(f"no Debian package group {group!r} in "
                   f"t2tlite/debian_packages.py: {', '.join(DEBIAN_GROUPS)}")
  return DEBIAN_GROUPS[group]


def ensure_debian_group(group, why):
  """ensure_debian_packages for a named group of t2tlite/debian_packages.py
  (the packages t2tlite's own problems use; a plugin problem passes its own
  names to ensure_debian_packages)."""
  ensure_debian_packages(debian_group(group), why)


def require_module(module, pip_name, why):
  """Imports an optional Python module or says which pip package gives it."""
  try:
    return importlib.import_module(module)
  except ImportError:
    raise MissingDependency(f"{why} needs the Python package {pip_name}: "
                            f"run `pip install {pip_name}`") from None
