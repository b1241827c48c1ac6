"""The two kinds of error a t2tlite command ends with.

Every error class of the library derives from one of them, so the CLIs
catch these two and nothing else (bin/cli.py):

- `UserError`: the input is wrong (a flag, a file, a name, a run
  directory); one line on stderr naming what to fix, exit status 2.
  Nothing the user had is lost.
- `RunFailed`: a run that started could not go on (non-finite losses, a
  worker that died); one line, exit status 1. The last complete checkpoint
  is kept.
"""


class UserError(Exception):
  """Bad input: the CLIs print one line and exit 2."""


class RunFailed(RuntimeError):
  """A started run failed: the CLIs print one line and exit 1."""
