"""Settings every model and the trainer read; other sets derive from these.

The keys and their defaults live in the library (t2tlite.hparams_lib.
defaults), so a run configuration written before a key existed reads back
with that key's default (t2tlite/train/run_config.py) and no reader needs a
fallback of its own."""
from t2tlite import hparams_lib


def basic_params():
  """Optimiser, batching and regularisation shared by every model."""
  return hparams_lib.defaults()
