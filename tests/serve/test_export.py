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
import usr_dir_example  # noqa: F401  (registers zen_reverse)

from conftest import USR_DIR, run_cli
from t2tlite.data import codecs
from t2tlite.data.codecs import text as text_codec
from t2tlite.data import vocab as vocab_lib

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
  tok = text_codec.sentencepiece_tokenizer(vocab.path)
  ids = text_codec.encode_text(tok, tf.constant(lines), 64).numpy()
  for line, row in zip(lines, ids):
    want = vocab.encode(line)[:63] + [vocab_lib.EOS_ID]
    assert list(row[:len(want)]) == want, line
    assert not row[len(want):].any()
  # Detokenising: the pieces before EOS, padding and EOS dropped.
  back = text_codec.decode_subwords(tok, ids).numpy()
  for row, text in zip(ids, back):
    assert text.decode("utf-8") == vocab.decode(row)
  rng = np.random.default_rng(0)
  noise = rng.integers(0, vocab.size, size=(50, 12))
  got = text_codec.decode_subwords(tok, noise).numpy()
  assert [g.decode("utf-8") for g in got] == [vocab.decode(r) for r in noise]


def test_char_detokenisation_matches_char_vocab():
  cv = vocab_lib.CharVocab()
  texts = ["héllo wörld", "日本語", ""]
  ids = [cv.encode(t) + [vocab_lib.EOS_ID, 5, 6] for t in texts]
  width = max(map(len, ids))
  ids = np.array([r + [0] * (width - len(r)) for r in ids])
  ids[0, 1] = 0xC3 + 3  # a broken UTF-8 sequence, replaced like decode()
  got = text_codec.decode_chars(tf.constant(ids)).numpy()
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
  from t2tlite.decode import decoder
  lines = usr_dir_example.zen_lines()[:8] + ZEN_EXTRA
  export_dir = str(tmp_path / "export" / "1")
  run_cli("t2t_exporter", f"--output_dir={zen_run}", f"--usr_dir={USR_DIR}",
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
                  f"--usr_dir={USR_DIR}", f"--export_dir={export_dir}",
                  check=False)
  assert again.returncode == 2
  assert "already exists" in again.stderr
  assert len(again.stderr.strip().splitlines()) == 1


def test_exporter_rejects_unknown_problem(zen_run, tmp_path):
  proc = run_cli("t2t_exporter", f"--output_dir={zen_run}",
                 f"--usr_dir={USR_DIR}", "--problem=image_digits", f"--export_dir={tmp_path}/e",
                 check=False)
  assert proc.returncode == 2
  assert "zen_reverse" in proc.stderr
  assert not os.path.exists(tmp_path / "e")


# --- images and audio: the graph preprocessing equals from_line ------------
def _write(path, data):
  with open(path, "wb") as f:
    f.write(data)
  return str(path)


def test_image_preprocessing_equals_decode_input(tmp_path):
  from t2tlite import registry
  from t2tlite.problems import image_digits  # noqa: F401
  from t2tlite.problems import image_fashion_mnist  # noqa: F401
  hp = registry.hparams("transformer_tiny")
  rng = np.random.default_rng(0)
  images = [rng.integers(0, 256, s, dtype=np.uint8)
            for s in [(8, 8, 1), (20, 13, 3), (9, 9, 4), (30, 30, 2)]]
  files = [_write(tmp_path / f"{i}.png", tf.io.encode_png(im).numpy())
           for i, im in enumerate(images)]
  files.append(_write(tmp_path / "photo.jpg",
                      tf.io.encode_jpeg(images[1]).numpy()))
  for name in ("image_digits", "image_fashion_mnist"):
    problem = registry.problem(name)
    fn, _ = codecs.for_problem(problem, None).inputs.graph_inputs(hp)
    data = []
    for path in files:
      with open(path, "rb") as f:
        data.append(f.read())
    got = fn(tf.constant(data)).numpy()
    for path, g in zip(files, got):
      want, _ = codecs.for_problem(problem, None).inputs.from_line(path, hp)
      np.testing.assert_array_equal(g, want, err_msg=f"{name} {path}")


def test_audio_preprocessing_equals_decode_input(tmp_path):
  from t2tlite.data import audio
  from t2tlite import registry
  from t2tlite.data import speech_problems
  hp = registry.hparams("transformer_tiny")
  t = np.arange(int(0.3 * 22050)) / 22050.0
  tone = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 3 * t)
  files = [_write(tmp_path / "16k.wav", audio.wav_bytes(tone[:4800])),
           _write(tmp_path / "22k.wav", audio.wav_bytes(tone, 22050)),
           _write(tmp_path / "8k.wav", audio.wav_bytes(tone[:2000], 8000))]
  data = []
  for path in files:
    with open(path, "rb") as f:
      data.append(f.read())
  for modality in ("audio", "audio_waveform"):
    problem = type("P", (speech_problems.SpeechProblem,),
                   {"input_modality": modality})()
    fn, _ = codecs.for_problem(problem, None).inputs.graph_inputs(hp)
    got = fn(tf.constant(data)).numpy()
    for path, g in zip(files, got):
      want, _ = codecs.for_problem(problem, None).inputs.from_line(path, hp)
      assert not g[len(want):].any()  # batch padding is zeros
      g = g[:len(want)]
      if modality == "audio_waveform":
        # Resampling (22.05 and 8 kHz) is resample_poly's filter and sum in
        # float64 both ways: the same 16-bit PCM.
        np.testing.assert_array_equal(g, want)
      else:  # the same PCM, the same features
        np.testing.assert_allclose(g, want, atol=1e-4, rtol=0)


def test_image_classification_export(tmp_path):
  """image_digits: labels and scores in the SavedModel equal the decoder's."""
  from t2tlite.decode import decoder
  from t2tlite.serve import export
  data, out = str(tmp_path / "data"), str(tmp_path / "run")
  run_cli("t2t_datagen", "--problem=image_digits", f"--data_dir={data}",
          f"--tmp_dir={tmp_path}/tmp")
  run_cli("t2t_trainer", "--problem=image_digits", "--model=transformer",
          "--hparams_set=transformer_tiny", f"--data_dir={data}",
          f"--output_dir={out}", "--train_steps=10", "--eval_every=10",
          "--eval_steps=1")
  rng = np.random.default_rng(1)
  files = [_write(tmp_path / f"{i}.png", tf.io.encode_png(
      rng.integers(0, 256, (8 + i, 8, 1 + 2 * (i % 2)), dtype=np.uint8)
  ).numpy()) for i in range(4)]
  dec = decoder.Decoder(out, decode_hparams_text="top_k=3")
  probs = dec.decode_arrays("image_digits", [
      dec.model_input("image_digits", p)[0] for p in files])
  export_dir = export.export(out, str(tmp_path / "export"),
                             decode_hparams="top_k=3")
  loaded = tf.saved_model.load(export_dir)
  data = []
  for path in files:
    with open(path, "rb") as f:
      data.append(f.read())
  got = loaded.signatures["serving_default"](inputs=tf.constant(data))
  assert got["labels"].shape == (4, 3)
  for p, labels, scores in zip(probs, got["labels"].numpy(),
                               got["scores"].numpy()):
    best = np.argsort(-p, kind="stable")[:3]
    np.testing.assert_allclose(scores, p[best], atol=1e-5)
    assert labels[0].decode() == str(best[0])
  assert export.read_metadata(export_dir)["outputs"] == ["outputs", "labels",
                                                         "scores"]
