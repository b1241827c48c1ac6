"""Joint CTC-attention decoding by rescoring (Watanabe et al. 2017, in its
n-best form): for a model with a CTC head, the hypotheses of the attention
search and the CTC head's own best label sequences are scored by

    ctc_weight * log p_CTC(y | x) + (1 - ctc_weight) * log p_att(y | x)

and returned best first. The attention decoder alone can write fluent text
that does not follow the audio (repeated phrases, a wrong length); CTC
scores the whole sequence against the frames, so such a hypothesis loses,
while the attention decoder's language knowledge picks among the CTC
head's spellings. Both terms are sums over the sequence, without a length
penalty: CTC's own alignment penalises outputs that are too long or short.
"""
import tensorflow as tf

from t2tlite.data import vocab as vocab_lib
from t2tlite.decode import search
from t2tlite.layers import ctc

NEG_INF = -1e9


def clean(ids):
  """ids [..., T] -> int32 ids with every position after the first EOS 0."""
  ids = tf.cast(ids, tf.int32)
  eos = tf.cast(tf.equal(ids, vocab_lib.EOS_ID), tf.int32)
  return tf.where(tf.cumsum(eos, axis=-1, exclusive=True) == 0, ids, 0)


def rescore(model, problem, inputs, state, searched, max_len, ctc_weight,
            ctc_beam):
  """searched: (ids [B, K, max_len], scores [B, K], valid [B, K]) of the
  attention search. Returns the same triple over the attention and CTC
  candidates (K + ctc_beam of them), rescored, best first; the score is
  the joint log-probability."""
  ids, _, valid = searched
  logits, mask = ctc.head_logits(model, problem, state, inputs)
  cands, ok = [clean(ids)], [valid]
  if ctc_beam > 0:
    extra = ctc.beam_ids(logits, mask, max(8, ctc_beam), ctc_beam, max_len)
    cands.append(clean(extra))
    ok.append(tf.ones(tf.shape(extra)[:2], tf.bool))
  cands, ok = tf.concat(cands, axis=1), tf.concat(ok, axis=1)
  batch, m = tf.shape(cands)[0], tf.shape(cands)[1]
  flat = tf.reshape(cands, [batch * m, max_len])
  att = model.score_targets(search.tile_beams(state, m), problem, flat)
  p_ctc = ctc.sequence_logp(tf.repeat(logits, m, axis=0),
                            tf.repeat(mask, m, axis=0), flat)
  joint = ctc_weight * p_ctc + (1.0 - ctc_weight) * att
  joint = tf.where(ok, tf.reshape(joint, [batch, m]), NEG_INF)
  order = tf.argsort(joint, axis=1, direction="DESCENDING", stable=True)
  return (tf.gather(cands, order, batch_dims=1),
          tf.gather(joint, order, batch_dims=1),
          tf.gather(ok, order, batch_dims=1))
