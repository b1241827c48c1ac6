"""Importing a user's directory of problems, models and hparams sets."""
import importlib
import os
import sys
import traceback

from t2tlite import errors


class UsrDirError(errors.UserError, ImportError):
  """The --usr_dir is missing or its code fails to import."""


def _module_dir(module):
  """The directory a package was imported from, or its file's directory."""
  paths = list(getattr(module, "__path__", []) or [])
  if paths:
    return os.path.abspath(paths[0])
  file = getattr(module, "__file__", None)
  return os.path.dirname(os.path.abspath(file)) if file else None


def import_usr_dir(path):
  """Imports `path` as a package so that its decorators register.

  An error in the user's code is reported with its type, message and the
  user's file and line, never swallowed.
  """
  if not path:
    return None
  path = os.path.abspath(os.path.expanduser(path))
  if not os.path.isdir(path):
    raise UsrDirError(f"--usr_dir {path} is not a directory")
  parent, name = os.path.split(path.rstrip(os.sep))
  if not os.path.exists(os.path.join(path, "__init__.py")):
    raise UsrDirError(f"--usr_dir {path} has no __init__.py")
  if name in sys.modules:
    loaded = sys.modules[name]
    where = _module_dir(loaded)
    if where == path:
      return loaded
    raise UsrDirError(
        f"--usr_dir {path}: a different module named {name!r} is already "
        f"imported (from {where or 'a built-in'}); rename the directory")
  sys.path.insert(0, parent)
  try:
    return importlib.import_module(name)
  except Exception as e:  # pylint: disable=broad-except
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if f.filename.startswith(path)]
    where = f" at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    raise UsrDirError(f"--usr_dir {path} failed to import: "
                      f"{type(e).__name__}: {e}{where}") from e
  finally:
    sys.path.remove(parent)
