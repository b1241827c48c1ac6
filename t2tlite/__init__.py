"""t2tlite: a Tensor2Tensor-style multi-task framework on TensorFlow 2.

`import t2tlite` registers every built-in problem, model, hparams set and
modality.
"""
import os as _os

_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from t2tlite.registry import (register_problem, register_model,  # noqa
                              register_hparams, register_modality)
from t2tlite.hparams_lib import HParams  # noqa: F401

from t2tlite import modalities  # noqa: F401,E402
from t2tlite import problems  # noqa: F401,E402
from t2tlite import models  # noqa: F401,E402
from t2tlite import hparams  # noqa: F401,E402

__version__ = "0.1.0"
