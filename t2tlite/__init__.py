"""t2tlite: a Tensor2Tensor-style multi-task framework on TensorFlow 2.

`import t2tlite` registers every built-in problem, model, hparams set and
modality.
"""
import os as _os
import sys as _sys

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _quiet_import_tensorflow():
  """Imports TensorFlow and starts its devices with C++ stderr silenced.

  TF 2.21 logs a few INFO lines (oneDNN, CUDA stubs) on import whatever
  TF_CPP_MIN_LOG_LEVEL says; they would bury a CLI's one-line errors.
  T2TLITE_VERBOSE=1 keeps them. Python exceptions still propagate.
  """
  if "tensorflow" in _sys.modules or _os.environ.get("T2TLITE_VERBOSE"):
    import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel
    return
  _sys.stderr.flush()
  saved = _os.dup(2)
  devnull = _os.open(_os.devnull, _os.O_WRONLY)
  try:
    _os.dup2(devnull, 2)
    # Devices are not started here: multi-worker training must configure
    # collective ops before TensorFlow's context starts.
    import tensorflow  # noqa: F401  pylint: disable=import-outside-toplevel
  finally:
    _os.dup2(saved, 2)
    _os.close(saved)
    _os.close(devnull)


def quiet_start_devices():
  """Starts TensorFlow's devices with C++ stderr silenced (the CUDA probe
  logs an error line on machines without a GPU). Not called at import:
  multi-worker training must configure collectives before devices start."""
  if _os.environ.get("T2TLITE_VERBOSE"):
    return
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  _sys.stderr.flush()
  saved = _os.dup(2)
  devnull = _os.open(_os.devnull, _os.O_WRONLY)
  try:
    _os.dup2(devnull, 2)
    tf.config.list_logical_devices()
  finally:
    _os.dup2(saved, 2)
    _os.close(saved)
    _os.close(devnull)


_quiet_import_tensorflow()

from t2tlite.registry import (register_problem, register_model,  # noqa
                              register_hparams, register_modality)
from t2tlite.hparams_lib import HParams  # noqa: F401

from t2tlite import modalities  # noqa: F401,E402
from t2tlite import problems  # noqa: F401,E402
from t2tlite import models  # noqa: F401,E402
from t2tlite import hparams  # noqa: F401,E402

from t2tlite.api import load  # noqa: F401,E402

__version__ = "0.1.0"
