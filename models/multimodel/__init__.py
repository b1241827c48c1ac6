"""The MultiModel (importing this registers it)."""
from t2tlite.models.multimodel import blocks  # noqa: F401
from t2tlite.models.multimodel import body  # noqa: F401
