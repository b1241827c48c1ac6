"""Registered modality nets (importing this registers them)."""
from t2tlite.modalities import text  # noqa: F401
from t2tlite.modalities import audio  # noqa: F401
from t2tlite.modalities import audio_subsampling  # noqa: F401
from t2tlite.modalities import class_label  # noqa: F401
from t2tlite.modalities import image  # noqa: F401
