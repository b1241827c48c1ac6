"""Registered hparams sets (importing this registers them)."""
from t2tlite.hparams import base  # noqa: F401
from t2tlite.hparams import transformer  # noqa: F401
from t2tlite.hparams import multimodel  # noqa: F401
