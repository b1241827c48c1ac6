"""Registered models (importing this registers them)."""
from t2tlite.models import transformer  # noqa: F401
from t2tlite.models import multimodel  # noqa: F401
