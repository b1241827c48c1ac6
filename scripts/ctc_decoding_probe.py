"""Chooses the joint CTC-attention decoding weight on a dev split.

  python scripts/ctc_decoding_probe.py OUTPUT_DIR PROBLEM LIMIT BEAM OUT_JSON

Decodes the first LIMIT dev examples of a speech run (a model with a CTC
head) with the attention beam search alone, with the CTC head alone (best
path; CTC prefix beam), and with candidate sets (the attention n-best,
+ the CTC best path, + the CTC beam's 4 best, or the CTC beam's alone)
rescored by lambda * log p_CTC + (1 - lambda) * log p_att for several
lambda; writes every WER/CER to OUT_JSON. The decoder's defaults
(ctc_weight, ctc_beam; t2tlite/decode/ctc_rescore.py) were chosen from its
output on two runs (docs/learning/speech/ctc_decoding/).
"""
import json, sys, time
import numpy as np
import tensorflow as tf
import t2tlite  # noqa
from t2tlite.decode import decoder as dec_lib
from t2tlite.data import pipeline
from t2tlite.layers import ctc
from t2tlite import metrics

out_dir, name, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
beam, out_json = int(sys.argv[4]), sys.argv[5]
d = dec_lib.Decoder(out_dir, decode_hparams_text=f"beam_size={beam},batch_size=32,ctc_weight=0")
p = d.problem(name)
pairs = list(pipeline.eval_pairs(p, d.data_dir, "dev", d.hparams, limit))
inputs = [a for a, _ in pairs]; refs = [r for _, r in pairs]
target = d.codecs(name).targets
dhp = d.dhp.values()
res = {}
t = time.time()
nb = d.decode_arrays(name, inputs, return_beams=True)
res["beam_s"] = time.time() - t
att_best = [target.to_text(h[0][0], dhp) for h in nb]
res["attention_beam"] = metrics.score(p, att_best, refs)
model = d.model

def att_logp(x, ids):
  feats = {"inputs": x, "targets": ids}
  logits, _ = model(feats, problem=name, training=False)
  lp = tf.nn.log_softmax(logits)
  tok = tf.gather(lp, tf.cast(ids, tf.int32), batch_dims=2)
  return tf.reduce_sum(tok * tf.cast(ids > 0, tf.float32), axis=1)

greedy, cands = [], []
for s in range(0, len(inputs), 32):
  xs = inputs[s:s + 32]
  x = tf.constant(dec_lib._pad(xs))
  state, _ = model.encode(x, name, training=False)
  logits, mask = ctc.head_logits(model, name, state, x)
  g = ctc.greedy_ids(logits, mask, 300).numpy()
  cb = ctc.beam_ids(logits, mask, 8, 4, 300).numpy()
  for j in range(len(xs)):
    ids = dec_lib._strip(g[j]); greedy.append(ids)
    hyps = [np.asarray(h, np.int64) for h, _ in nb[s + j]] + [np.asarray(ids, np.int64)] + [np.asarray(dec_lib._strip(cb[j, k]), np.int64) for k in range(cb.shape[1])]
    na = len(nb[s + j])
    L = max(len(h) for h in hyps) + 1
    H = np.zeros([len(hyps), L], np.int64)
    for k, h in enumerate(hyps):
      H[k, :len(h)] = h; H[k, len(h)] = 1
    xk = tf.repeat(x[j:j + 1], len(hyps), axis=0)
    lk = tf.repeat(logits[j:j + 1], len(hyps), axis=0); mk = tf.repeat(mask[j:j + 1], len(hyps), axis=0)
    a = att_logp(xk, tf.constant(H)).numpy()
    c = ctc.sequence_logp(lk, mk, tf.constant(H)).numpy()
    cands.append((hyps, a, c, na))
res["ctc_greedy"] = metrics.score(p, [target.to_text(g, dhp) for g in greedy], refs)
res["ctc_beam_top1"] = metrics.score(p, [target.to_text(h[na + 1], dhp) for h, _, _, na in cands], refs)
for lam in (0.0, 0.2, 0.3, 0.4, 0.5, 0.7):
  for mode in ("att", "att+g", "att+g+cb", "cb"):
    outs = []
    for hyps, a, c, na in cands:
      idx = {"att": range(na), "att+g": range(na + 1), "att+g+cb": range(len(hyps)), "cb": range(na + 1, len(hyps))}[mode]
      best = max(idx, key=lambda i: lam * c[i] + (1 - lam) * a[i])
      outs.append(target.to_text(hyps[best], dhp))
    res[f"rescore_l{lam}_{mode}"] = metrics.score(p, outs, refs)
for k, v in res.items():
  print(k, v if not isinstance(v, dict) else {m: round(x, 2) for m, x in v.items()})
json.dump(res, open(out_json, "w"), indent=1)
