"""t2tlite: a Tensor2Tensor-style multi-task framework on TensorFlow 2.

`import t2tlite` registers the built-in modalities. Problems, models and
hparams sets are plugins: the first registry lookup or registration imports
every package of the "t2tlite.plugins" entry-point group, the built-ins
first (registry.load_plugins).
"""
import contextlib as _contextlib
import os as _os
import sys as _sys

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# Before TensorFlow loads: on a machine without an NVIDIA GPU, its GPU device
# factory is not registered, so no "failed call to cuInit" error line
# (gpu_env.py; a GPU machine, or a user's CUDA_VISIBLE_DEVICES, is left as is).
from t2tlite import gpu_env as _gpu_env  # noqa: E402

_gpu_env.hide_cuda_without_gpu()


@_contextlib.contextmanager
def _silenced_stderr():
  """C++ writes to fd 2 go nowhere inside (Python exceptions still rise)."""
  _sys.stderr.flush()
  saved = _os.dup(2)
  devnull = _os.open(_os.devnull, _os.O_WRONLY)
  try:
    _os.dup2(devnull, 2)
    yield
  finally:
    _os.dup2(saved, 2)
    _os.close(saved)
    _os.close(devnull)


def _quiet_import_tensorflow():
  """Imports TensorFlow with C++ stderr silenced.

  TF 2.21 logs a few INFO lines (oneDNN, CUDA stubs) on import whatever
  TF_CPP_MIN_LOG_LEVEL says; they would bury a CLI's one-line errors.
  T2TLITE_VERBOSE=1 keeps them. Devices are not started here: multi-worker
  training must configure collective ops before TensorFlow's context starts.
  """
  if "tensorflow" in _sys.modules or _os.environ.get("T2TLITE_VERBOSE"):
    import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel
    return
  with _silenced_stderr():
    import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel


def quiet_start_devices():
  """Starts TensorFlow's devices with C++ stderr silenced (the CUDA probe
  logs an error line on machines without a GPU). Not called at import, for
  the reason above."""
  if _os.environ.get("T2TLITE_VERBOSE"):
    return
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  with _silenced_stderr():
    tf.config.list_logical_devices()

_quiet_import_tensorflow()

from t2tlite.registry import (register_problem, register_model,  # noqa
                              register_hparams, register_modality)
from t2tlite.hparams_lib import HParams  # noqa: F401

from t2tlite import modalities  # noqa: F401,E402
from t2tlite.data import codecs  # noqa: F401,E402
from t2tlite import metrics  # noqa: F401,E402

from t2tlite.serve.api import load  # noqa: F401,E402

__version__ = "0.1.0"
