"""Export: a SavedModel on raw inputs that equals the decoder, loadable by a
process that never imports t2tlite."""
import glob
import gettext
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import run_cli
from t2tlite import export_ops
from t2tlite import vocab as vocab_lib

ZEN_EXTRA = ["Beautiful is better than ugly.", "  ", "",
             "Ｆｕｌｌ－ｗｉｄｔｈ ﬁne café  naïve\tTabs…",
             "Unknown ☃ symbols ⅷ and ① digits"]


def real_sentences(limit=600):
  """English licence text and German/French UI strings of this system."""
  out = []
  for path in sorted(glob.glob("/usr/share/common-licenses/*"))[:6]:
    if os.path.isfile(path):
      with open(path, encoding="utf-8", errors="replace") as f:
        out += [l.strip() for l in f if len(l.strip()) > 20][:80]
  for mo in sorted(glob.glob("/usr/share/locale/[df][er]/LC_MESSAGES/*.mo")):
    try:
      with open(mo, "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # pylint: disable=protected-access
    except (OSError, UnicodeDecodeError):
      continue
    out += [v for v in catalog.values() if isinstance(v, str) and v][:100]
    if len(out) > limit:
      break
  return out[:limit]


@pytest.fixture(scope="module")
def sentencepiece_vocab(tmp_path_factory):
  lines = real_sentences()
  assert len(lines) > 100, "expected this Debian system's licence texts"
  path = str(tmp_path_factory.mktemp("spm") / "vocab.test.model")
  return vocab_lib.train_subword_vocab(path, lines, 400), lines


def test_in_graph_tokenisation_matches_sentencepiece(sentencepiece_vocab):
  vocab, lines = sentencepiece_vocab
  lines = lines + ZEN_EXTRA[:1] + ZEN_EXTRA[3:] + [
      "ＡＢＣ１２３", "x\u00a0y\u2003z", "e\u0301", "ﬃ ㍻ ™ ½"]
  tok = export_ops.sentencepiece_tokenizer(vocab.path)
  ids = export_ops.encode_text(tok, tf.constant(lines), 64).numpy()
  for line, row in zip(lines, ids):
    want = vocab.encode(line)[:63] + [vocab_lib.EOS_ID]
    assert list(row[:len(want)]) == want, line
    assert not row[len(want):].any()
  # Detokenising: the pieces before EOS, padding and EOS dropped.
  back = export_ops.decode_subwords(tok, ids).numpy()
  for row, text in zip(ids, back):
    assert text.decode("utf-8") == vocab.decode(row)
  rng = np.random.default_rng(0)
  noise = rng.integers(0, vocab.size, size=(50, 12))
  got = export_ops.decode_subwords(tok, noise).numpy()
  assert [g.decode("utf-8") for g in got] == [vocab.decode(r) for r in noise]


def test_char_detokenisation_matches_char_vocab():
  cv = vocab_lib.CharVocab()
  texts = ["héllo wörld", "日本語", ""]
  ids = [cv.encode(t) + [vocab_lib.EOS_ID, 5, 6] for t in texts]
  width = max(map(len, ids))
  ids = np.array([r + [0] * (width - len(r)) for r in ids])
  ids[0, 1] = 0xC3 + 3  # a broken UTF-8 sequence, replaced like decode()
  got = export_ops.decode_chars(tf.constant(ids)).numpy()
  assert [g.decode("utf-8") for g in got] == [cv.decode(r) for r in ids]


FRESH = r"""
import json, sys
import tensorflow as tf
import tensorflow_text  # registers the sentencepiece ops
loaded = tf.saved_model.load(sys.argv[1])
fn = loaded.signatures["serving_default"]
out = fn(inputs=tf.constant(json.loads(sys.argv[2])))
assert not [m for m in sys.modules if m.startswith("t2tlite")], "imported"
print(json.dumps([o.decode("utf-8") for o in out["outputs"].numpy()]))
"""


def test_text_export_equals_decoder_in_fresh_interpreter(zen_run, tmp_path):
  import usr_dir_example
  from t2tlite import decoder
  lines = usr_dir_example.zen_lines()[:8] + ZEN_EXTRA
  export_dir = str(tmp_path / "export" / "1")
  run_cli("t2t_exporter", f"--output_dir={zen_run}",
          f"--export_dir={export_dir}", "--decode_hparams=beam_size=2")
  want = decoder.Decoder(zen_run, decode_hparams_text="beam_size=2"
                         ).decode_lines("zen_reverse", lines,
                                        report=lambda m: None)
  proc = subprocess.run([sys.executable, "-c", FRESH, export_dir,
                         json.dumps(lines)], capture_output=True, text=True,
                        timeout=300, cwd=str(tmp_path))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert json.loads(proc.stdout.strip().splitlines()[-1]) == want
  assert sum(bool(w) for w in want) >= 8
  # An export never overwrites: one line, exit 2.
  again = run_cli("t2t_exporter", f"--output_dir={zen_run}",
                  f"--export_dir={export_dir}", check=False)
  assert again.returncode == 2
  assert "already exists" in again.stderr
  assert len(again.stderr.strip().splitlines()) == 1


def test_exporter_rejects_unknown_problem(zen_run, tmp_path):
  proc = run_cli("t2t_exporter", f"--output_dir={zen_run}",
                 "--problem=image_digits", f"--export_dir={tmp_path}/e",
                 check=False)
  assert proc.returncode == 2
  assert "zen_reverse" in proc.stderr
  assert not os.path.exists(tmp_path / "e")
