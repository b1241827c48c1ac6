"""Every error the library raises is one of the two the CLIs catch."""
import inspect
import pkgutil

import t2tlite
from t2tlite import errors


def test_every_library_error_is_a_user_error_or_a_failed_run():
  """bin/cli.py catches errors.UserError (exit 2) and errors.RunFailed
  (exit 1) only; every error class the library defines derives from one."""
  found = []
  for info in pkgutil.walk_packages(t2tlite.__path__, "t2tlite."):
    if info.name.startswith(("t2tlite.problems", "t2tlite.models",
                             "t2tlite.hparams", "t2tlite.bin")):
      continue
    mod = __import__(info.name, fromlist=["_"])
    for _, cls in inspect.getmembers(mod, inspect.isclass):
      if (issubclass(cls, Exception) and cls.__module__ == info.name
          and cls not in (errors.UserError, errors.RunFailed)):
        found.append(cls)
  assert len(found) >= 10, found
  # A malformed tree is counted by the parsing metric, never raised to
  # the CLIs.
  local = {"MalformedTree"}
  loose = [c.__qualname__ for c in found if c.__name__ not in local and
           not issubclass(c, (errors.UserError, errors.RunFailed))]
  assert not loose, loose
