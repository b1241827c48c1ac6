"""What the three CLIs share: flag parsing, --usr_dir, --registry_help, and
turning every expected error into one line on stderr and exit status 2."""
import logging
import sys

from absl import flags

EXIT_BAD_INPUT = 2
EXIT_FAILED = 1


def new_flags():
  """A FlagValues of its own per CLI, with the flags every CLI has."""
  fv = flags.FlagValues()
  flags.DEFINE_string("usr_dir", None, "Directory of the user's own "
                      "problems, models and hparams sets (a Python package).",
                      flag_values=fv)
  flags.DEFINE_alias("t2t_usr_dir", "usr_dir", flag_values=fv)
  flags.DEFINE_boolean("registry_help", False, "List everything registered "
                       "and exit.", flag_values=fv)
  flags.DEFINE_boolean("verbose", False, "Log TensorFlow's messages too.",
                       flag_values=fv)
  return fv


def expected_errors():
  """Errors that mean bad input: one line, exit 2."""
  from t2tlite import data_io, decoder, mixing, registry, run_config
  from t2tlite import system_deps, usr_dir
  from t2tlite.hparams_lib import HParamsError
  return (registry.RegistryError, HParamsError, data_io.DataError,
          run_config.ConfigError, mixing.MixingError, decoder.DecodeError,
          system_deps.MissingDependency, usr_dir.UsrDirError,
          FileNotFoundError, IsADirectoryError, PermissionError,
          UnicodeDecodeError)


def fail(prog, message, status=EXIT_BAD_INPUT):
  line = " ".join(str(message).split())
  print(f"{prog}: error: {line}", file=sys.stderr)
  sys.exit(status)


def run(prog, fv, main, argv=None):
  """Parses argv into fv, then calls main(fv); maps errors to exit codes."""
  argv = list(sys.argv if argv is None else argv)
  fv.unparse_flags()  # a second run in one process starts from defaults
  try:
    fv(argv)
  except flags.Error as e:
    fail(prog, e)
  # Our own handler on our own logger: libraries imported later (absl, TF)
  # reset the root logger's level, which silenced progress and resumes.
  log = logging.getLogger("t2tlite")
  if not log.handlers:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.propagate = False
  log.setLevel(logging.INFO)
  if not fv.verbose:
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.getLogger("absl").setLevel(logging.WARNING)
    # Its "N out of the last N calls triggered retracing" counts the
    # per-problem train steps together; each of those traces only once.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
  import t2tlite  # noqa: F401  (registers the built-ins)
  if not (fv.verbose or ("distribution" in fv and
                         fv["distribution"].value == "multi_worker")):
    t2tlite.quiet_start_devices()
  from t2tlite import registry, trainer, usr_dir
  errors = expected_errors()
  try:
    usr_dir.import_usr_dir(fv.usr_dir)
    if fv.registry_help:
      print(registry.help_text())
      return 0
    return main(fv) or 0
  except errors as e:
    fail(prog, e)
  except trainer.TrainingError as e:
    fail(prog, e, EXIT_FAILED)
  except KeyboardInterrupt:
    fail(prog, "interrupted", 130)
  except OSError as e:
    if e.errno == 28:  # ENOSPC
      fail(prog, f"disk full: {e}; the last complete checkpoint is kept",
           EXIT_FAILED)
    raise
  except Exception as e:  # pylint: disable=broad-except
    # TensorFlow reports a full disk (checkpoints, summaries) as an OpError.
    if "No space left on device" in str(e):
      fail(prog, "disk full while writing a checkpoint or summary: "
           f"{str(e).splitlines()[0][:200]}; the last complete checkpoint "
           "is kept", EXIT_FAILED)
    raise


def require(prog, fv, *names):
  for n in names:
    if fv[n].value in (None, ""):
      fail(prog, f"--{n} is required")
