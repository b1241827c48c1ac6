"""Importing a user's directory of problems, models and hparams sets."""
import importlib
import os
import sys
import traceback


class UsrDirError(ImportError):
  """The --usr_dir is missing or its code fails to import."""


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
    return sys.modules[name]
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
