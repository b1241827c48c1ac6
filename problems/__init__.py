"""Registered problems (importing this registers them).

Optional dependencies are imported inside the problems that need them, so a
missing one never drops a problem from the registry: the problem says what
to install when it is used.
"""
from t2tlite.problems import ddtp  # noqa: F401  (registers shared_subword_8k)
from t2tlite.problems import translate_ddtp  # noqa: F401
from t2tlite.problems import translate_wmt  # noqa: F401
from t2tlite.problems import link_grammar  # noqa: F401
from t2tlite.problems import parsing  # noqa: F401
from t2tlite.problems import speech_librispeech  # noqa: F401
from t2tlite.problems import speech_tts  # noqa: F401
from t2tlite.problems import speech_wsj  # noqa: F401
from t2tlite.problems import image_caption_coco  # noqa: F401
from t2tlite.problems import image_caption_tuxpaint  # noqa: F401
from t2tlite.problems import image_digits  # noqa: F401
from t2tlite.problems import image_fashion_mnist  # noqa: F401
from t2tlite.problems import image_imagenet  # noqa: F401
