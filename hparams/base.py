"""Settings every model and the trainer read; other sets derive from these."""
from t2tlite.hparams_lib import HParams


def basic_params():
  """Optimiser, batching and regularisation shared by every model."""
  return HParams(
      hidden_size=128,
      batch_size=4096,            # tokens per batch (examples for images)
      max_length=128,             # longer examples are dropped (and counted)
      learning_rate=2.0,          # scale of the noam schedule below
      learning_rate_schedule="rsqrt_decay",  # or "constant"
      warmup_steps=4000,
      adam_beta1=0.9,
      adam_beta2=0.98,
      adam_epsilon=1e-9,
      clip_grad_norm=1.0,         # 0 disables clipping
      label_smoothing=0.1,
      dropout=0.1,
      shared_embedding_and_softmax=True,
      max_nonfinite_steps=10,     # stop after this many bad updates in a row
      mixed_precision=False,      # bfloat16 compute, float32 variables
      seed=1234,
  )
