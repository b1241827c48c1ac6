"""Speech problems: TTS datagen, LibriSpeech and WSJ readers, WER/CER."""
import os

import numpy as np
import pytest
import tensorflow as tf

from t2tlite.data import problem as problem_lib
from t2tlite.data import datagen
from t2tlite import metrics
from t2tlite.data import codecs
from t2tlite.data import pipeline
from t2tlite.data import audio
from t2tlite.metrics import wer as metrics_wer
from t2tlite import registry
from t2tlite.data import vocab as vocab_lib
from t2tlite.hparams_lib import defaults
from t2tlite.modalities import audio as _audio_modality  # noqa: F401
from t2tlite.problems import ddtp
from t2tlite.problems import speech_librispeech  # noqa: F401 (registers)
from t2tlite.data import speech_problems
from t2tlite.problems import speech_tts
from t2tlite.problems import speech_wsj

SENTENCES = {
    "train": ["Note that this module is marked experimental.",
              "This package contains the command line tools.",
              "It can read and write many image formats.",
              "The library is written in portable C code.",
              "See the manual page for more details."],
    "dev": ["This package provides the documentation files."],
    "test": ["A small program that draws pretty pictures.",
             "It is fast, simple and easy to use."],
}
HP = defaults().replace(hidden_size=16, batch_size=2000, max_length=64)


@pytest.fixture
def fake_ddtp(monkeypatch):
  monkeypatch.setattr(ddtp, "english_sentences",
                      lambda tmp_dir, split: list(SENTENCES[split]) + [
                          "Too short.", "Reads /usr/share/doc/foo files.",
                          "Catmandu::Fix provides fixes.",
                          "It reads foo.conf at startup.",
                          " ".join(["word"] * 21) + "."])


def fake_vocab(data_dir):
  """A tiny stand-in for shared_subword_8k (which needs the DDTP download)."""
  os.makedirs(data_dir, exist_ok=True)
  lines = [s for v in SENTENCES.values() for s in v] * 3 + [
      "mister smith lives here", "the quick brown fox"]
  vocab_lib.train_subword_vocab(
      vocab_lib.vocab_path(data_dir, "shared_subword_8k"), lines, 120)


# --- metrics ------------------------------------------------------------------
def test_wer_and_cer_after_normalisation():
  refs = ["The cat sat on the mat.", "Don't stop"]
  hyps = ["the cat sat on a mat", "don't  STOP!"]
  out = metrics_wer.wer_cer(hyps, refs)
  assert out["wer"] == pytest.approx(100 * 1 / 8, abs=0.01)  # the -> a
  # 22 + 10 reference characters; "the" -> "a" is 3 character edits.
  assert out["cer"] == pytest.approx(100 * 3 / 32, abs=0.01)
  assert metrics_wer.wer_cer(refs, refs) == {"wer": 0.0, "cer": 0.0}


def test_distinct_share_counts_outputs_that_differ_after_normalisation():
  share = metrics_wer.distinct_share
  assert share(["the cat", "The cat.", "a dog", "the  cat!"]) == 0.5
  assert share(["same"] * 10) == 0.1
  assert share(["a", "b", "c"]) == 1.0
  assert share([]) == 0.0
  hyps, refs = ["the cat", "the cat"], ["the cat", "a dog"]
  scores = metrics.score(registry.problem("speech_tts_en"), hyps, refs)
  assert scores == {**metrics_wer.wer_cer(hyps, refs), "distinct": 0.5}
  assert scores["wer"] == 50.0


def test_edit_distance_counts_insertions_and_deletions():
  assert metrics_wer.edit_distance("kitten".split("t"), []) == 3
  assert metrics_wer.edit_distance(list("kitten"), list("sitting")) == 3
  assert metrics_wer.normalize("“Hello,” she said — 'quoted'") == (
      "hello she said quoted")
  with pytest.raises(ValueError):
    metrics_wer.wer_cer(["a"], [])


# --- the TTS problem ----------------------------------------------------------
def test_test_voices_never_speak_in_training():
  labels = {s: {speech_tts.voice_for(s, i)[2] for i in range(3000)}
            for s in ("train", "dev", "test")}
  base = lambda label: label.split("+")[0]
  for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
    assert not {base(x) for x in labels[a]} & {base(x) for x in labels[b]}
  assert len({base(x) for x in labels["train"]}) >= 8


def test_splits_speak_only_their_own_usable_sentences(fake_ddtp, tmp_path):
  p = speech_tts.SpeechTtsEn()
  p.num_utterances = {"train": 7, "dev": 2, "test": 3}
  texts = {s: [j[0] for j in p.jobs(str(tmp_path), s)] for s in SENTENCES}
  for split, spoken in texts.items():
    assert len(spoken) == p.num_utterances[split]
    assert set(spoken) <= set(SENTENCES[split])
  assert not set(texts["train"]) & (set(texts["dev"]) | set(texts["test"]))




@pytest.fixture(scope="module")
def tts_data(tmp_path_factory):
  """A handful of real espeak-ng / flite utterances through datagen."""
  mp = pytest.MonkeyPatch()
  mp.setattr(ddtp, "english_sentences",
             lambda tmp_dir, split: list(SENTENCES[split]))
  mp.setattr(speech_tts.SpeechTtsEn, "num_utterances",
             {"train": 8, "dev": 3, "test": 3})
  mp.setattr(speech_tts.SpeechTtsEn, "num_shards",
             {"train": 2, "dev": 1, "test": 1})
  data_dir = str(tmp_path_factory.mktemp("speech_data"))
  fake_vocab(data_dir)
  written = datagen.generate_data(
      registry.problem("speech_tts_en"), data_dir,
      str(tmp_path_factory.mktemp("speech_tmp")))
  yield data_dir, written
  mp.undo()


def test_tts_datagen_writes_readable_batches(tts_data):
  data_dir, written = tts_data
  assert written == {"train": 8, "dev": 3, "test": 3}
  p = registry.problem("speech_tts_en")
  batch = next(iter(pipeline.batched(p, data_dir, "dev", HP, training=False)))
  inputs, targets = batch["inputs"].numpy(), batch["targets"].numpy()
  assert inputs.ndim == 3 and inputs.shape[2] == 80
  assert 100 < inputs.shape[1] < 1000       # 1 to 10 s of 10 ms frames
  assert targets[0, (targets[0] > 0).sum() - 1] == vocab_lib.EOS_ID
  refs = {r for _, r in pipeline.eval_pairs(p, data_dir, "test", HP)}
  assert refs == set(SENTENCES["test"])


def test_twins_read_the_same_files(tts_data):
  data_dir, _ = tts_data
  wave_p = registry.problem("speech_tts_en_waveform")
  chars_p = registry.problem("speech_tts_en_chars")
  assert problem_lib.data_name(wave_p) == problem_lib.data_name(chars_p) == "speech_tts_en"
  read = lambda p: next(pipeline.dataset(p, data_dir, "test", HP, False)
                        .as_numpy_iterator())
  spectral = read(registry.problem("speech_tts_en"))
  wav = read(wave_p)
  assert wav["inputs"].ndim == 1
  assert audio.num_frames(len(wav["inputs"])) == len(spectral["inputs"])
  ex = read(chars_p)
  text = problem_lib.vocab(chars_p, data_dir).decode(ex["targets"])
  assert text in SENTENCES["test"]
  assert problem_lib.spec(chars_p, data_dir).target_vocab_size == (
      vocab_lib.CharVocab.size)


def test_training_batches_respect_the_frame_budget(tts_data):
  data_dir, _ = tts_data
  p = registry.problem("speech_tts_en")
  hp = defaults().replace(hidden_size=16, batch_size=4096, max_length=64,
               audio_batch_frames=800, spec_augment=True)
  for batch in pipeline.batched(p, data_dir, "train", hp, training=True).take(6):
    b, t = batch["inputs"].shape[:2]
    assert b == 1 or b * t <= 800


def _augmented_pipeline(seed):
  """Training preprocessing with SpecAugment over three fixed utterances,
  built from scratch (a fresh dataset, as a resumed run builds it)."""
  p = codecs.for_problem(speech_problems.SpeechProblem(), None).inputs
  hp = defaults().replace(hidden_size=16, max_length=64, spec_augment=True,
                          seed=seed)
  rng = np.random.default_rng(0)
  pcms = [audio.to_pcm16(rng.normal(0, 0.2, 16000)) for _ in range(3)]
  pcms.append(pcms[0])  # the same utterance again
  ds = tf.data.Dataset.from_tensor_slices(pcms).map(
      lambda pcm: p.pcm_to_inputs(pcm, hp, training=True))
  return [x.numpy() for x in ds]


def test_spec_augment_masks_survive_rebuilding_the_pipeline():
  tf.random.set_seed(1)
  first = _augmented_pipeline(seed=5)
  tf.random.set_seed(2)  # no stateful random op: the global seed is unused
  again = _augmented_pipeline(seed=5)
  for a, b in zip(first, again):
    np.testing.assert_array_equal(a, b)
  masks = [(x == 0).tobytes() for x in first]
  assert any((x == 0).any() for x in first)
  assert len(set(masks[:3])) == 3          # examples differ
  assert masks[3] == masks[0]              # keyed by the utterance
  other = _augmented_pipeline(seed=6)      # and by hparams.seed
  assert [(x == 0).tobytes() for x in other] != masks


def test_decode_input_reads_any_wav_and_rejects_bad_lines(tts_data, tmp_path):
  data_dir, _ = tts_data
  p = registry.problem("speech_tts_en")
  pcm = speech_tts.speak("espeak-ng", ["-v", "en-us"], "Hello world.")
  x = np.frombuffer(pcm, "<i2") / 32768.0
  stereo8k = audio.resample(x, 16000, 8000)
  path = tmp_path / "hello.wav"
  path.write_bytes(audio.wav_bytes(stereo8k, 8000))
  codec = codecs.for_problem(p, data_dir).inputs
  inputs, warning = codec.from_line(str(path), HP)
  assert warning is None and inputs.shape[1] == 80
  assert abs(inputs.shape[0] - audio.num_frames(len(x))) <= 1
  for bad, message in (("", "empty line"),
                       (str(tmp_path / "nope.wav"), "no such audio file")):
    with pytest.raises(ValueError, match=message):
      codec.from_line(bad, HP)


# --- the audio net's front-end settings ---------------------------------------
def _spectral(**extra):
  from t2tlite.modalities import audio as audio_modality
  hp = defaults().replace(hidden_size=16, audio_blocks=4, **extra)
  return audio_modality.AudioSpectralModality(hp, 0)


def test_audio_front_end_defaults_are_the_papers():
  mod = _spectral()
  x, mask, _ = mod.bottom(np.random.default_rng(0).normal(
      size=(1, 24, 80)).astype(np.float32) + 0.01)
  assert [b.step1.conv.filters for b in mod.blocks] == [2, 4, 8, 16]
  assert [b.freq_stride for b in mod.blocks] == [1, 1, 1, 1]
  assert mod.project.kernel.shape == (80 * 16, 16)
  assert x.shape == (1, 6, 16) and mask.shape == (1, 6)


def test_audio_min_filters_and_freq_strides():
  mod = _spectral(audio_min_filters=8, audio_freq_strides=2)
  feats = np.zeros((2, 30, 80), np.float32)
  feats[0] = np.random.default_rng(1).normal(size=(30, 80)) + 0.01
  feats[1, :13] = feats[0, :13]
  x, mask, _ = mod.bottom(feats)
  assert [b.step1.conv.filters for b in mod.blocks] == [8, 8, 8, 16]
  # Frequency halves in the first two blocks: 80 -> 40 -> 20 bins.
  assert mod.project.kernel.shape == (20 * 16, 16)
  assert x.shape == (2, 8, 16)
  assert mask.numpy().sum(axis=1).tolist() == [8, 4]
  np.testing.assert_array_equal(mod.output_mask(feats).numpy(), mask.numpy())
  # The short utterance encodes the same alone as in the batch.
  alone, _, _ = mod.bottom(feats[1:2, :13])
  np.testing.assert_allclose(alone.numpy()[0, :4], x.numpy()[1, :4],
                             atol=1e-4)


# --- LibriSpeech through tfds -------------------------------------------------
def test_librispeech_reads_tfds_examples(tmp_path):
  import tensorflow_datasets as tfds
  data_dir = str(tmp_path / "data")
  fake_vocab(data_dir)
  p = registry.problem("speech_librispeech")
  p.num_shards = {"train": 1, "dev": 1, "test": 1}
  with tfds.testing.mock_data(num_examples=4):
    written = datagen.generate_data(p, data_dir, str(tmp_path / "tmp"))
    expected = [(ex["speech"], ex["text"].decode()) for ex in tfds.as_numpy(
        tfds.load("librispeech", split="test_clean"))]
  assert written == {"train": 4, "dev": 4, "test": 4}
  files = pipeline.shard_files(p, data_dir, "test")
  parse = pipeline.parser(codecs.for_problem(p, data_dir))
  got = list(tf.data.TFRecordDataset(files).map(parse).as_numpy_iterator())
  for ex, (speech, text) in zip(got, expected):
    assert np.array_equal(np.frombuffer(ex["audio"], "<i2"), speech)
    assert ex["transcript"].decode() == text.lower()


# --- WSJ from a manual directory ----------------------------------------------
def sphere_bytes(samples, rate=16000, coding="pcm", byte_format="01"):
  fmt = ">i2" if byte_format == "10" else "<i2"
  body = (np.asarray(samples) * 32767).astype(fmt).tobytes()
  fields = ["NIST_1A", "   1024", "database_id -s7 CSR-WSJ",
            f"sample_rate -i {rate}", "sample_n_bytes -i 2",
            "channel_count -i 1", f"sample_byte_format -s2 {byte_format}",
            f"sample_count -i {len(samples)}",
            f"sample_coding -s{len(coding)} {coding}", "end_head"]
  head = ("\n".join(fields) + "\n").encode("ascii")
  return head + b" " * (1024 - len(head)) + body


def write_wsj(root):
  """A few utterances laid out like the WSJ0 / WSJ1 CD-ROMs."""
  t = np.arange(16000) / 16000
  wave_ = 0.3 * np.sin(2 * np.pi * 440 * t)
  files = {
      "11-1.1/wsj0/si_tr_s/011/011c0201.wv1": sphere_bytes(wave_),
      "11-1.1/wsj0/si_tr_s/011/011c0202.wv1": sphere_bytes(
          wave_[:8000], byte_format="10"),
      "11-1.1/wsj0/si_tr_s/011/011c0203.wv1": sphere_bytes(wave_[:4000]),
      "13-16.1/wsj1/si_dt_20/4k0/4k0c0301.wv1": sphere_bytes(wave_),
      "11-14.1/wsj0/si_et_05/440/440c0201.wav": audio.wav_bytes(wave_),
  }
  texts = {
      "11-4.1/wsj0/transcrp/dots/si_tr_s/011/011c0200.dot":
          "The index rose \\period [loud_breath] (011c0201)\n"
          "Shares FELL <sharply> \\comma in trad- trading (011C0202)\n",
      "13-16.1/wsj1/si_dt_20/4k0/4k0c0300.dot":
          "Prices were .PERIOD higher (4k0c0301)\n",
      "13-34.1/wsj1/trans/wsj1/si_dt_20/4k0/4k0c0300.lsn":
          "PRICES WERE HIGHER (4K0C0301)\n",
      "11-14.1/wsj0/transcrp/dots/si_et_05/440/440c0200.dot":
          "Analysts expect no change (440c0201)\n",
  }
  for rel, data in list(files.items()) + list(texts.items()):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
      f.write(data if isinstance(data, bytes) else data.encode())


def test_sphere_reader(tmp_path):
  path = tmp_path / "a.wv1"
  x = 0.5 * np.sin(np.arange(800) / 5.0)
  for order in ("01", "10"):
    path.write_bytes(sphere_bytes(x, rate=8000, byte_format=order))
    samples, rate = speech_wsj.read_sphere(str(path))
    assert rate == 8000 and np.allclose(samples, x, atol=1e-4)
  path.write_bytes(sphere_bytes(x, coding="pcm,embedded-shorten-v2.00"))
  with pytest.raises(ValueError, match="sph2pipe"):
    speech_wsj.read_sphere(str(path))
  path.write_bytes(b"RIFF....")
  with pytest.raises(ValueError, match="NIST_1A"):
    speech_wsj.read_sphere(str(path))


def test_wsj_reader_on_the_corpus_layout(tmp_path, monkeypatch):
  root = tmp_path / "wsj"
  write_wsj(str(root))
  monkeypatch.setenv("T2TLITE_WSJ_DIR", str(root))
  p = registry.problem("speech_wsj")
  train = list(p.utterances(str(tmp_path), "train"))
  # 011c0203 has no transcript and is skipped.
  assert [t for _, t in train] == ["the index rose",
                                   "shares fell sharply in trading"]
  assert [len(pcm) // 2 for pcm, _ in train] == [16000, 8000]
  assert [t for _, t in p.utterances(str(tmp_path), "dev")] == [
      "prices were higher"]
  (test_pcm, test_text), = p.utterances(str(tmp_path), "test")
  assert test_text == "analysts expect no change" and len(test_pcm) == 32000
  inputs, _ = codecs.for_problem(p, None).inputs.from_line(
      str(root / "11-1.1/wsj0/si_tr_s/011/011c0201.wv1"), HP)
  assert inputs.shape == (100, 80)


def test_wsj_without_the_corpus_says_what_to_do(tmp_path, monkeypatch):
  monkeypatch.delenv("T2TLITE_WSJ_DIR", raising=False)
  with pytest.raises(RuntimeError, match="T2TLITE_WSJ_DIR"):
    list(registry.problem("speech_wsj").utterances(str(tmp_path), "train"))


def _train_tiny(problem, data_dir, out, steps, **settings):
  """A tiny transformer with two ConvRes blocks instead of eight (a short
  compile) and a CTC head, trained on `problem`; its eval results."""
  from t2tlite.train import trainer
  name = f"transformer_tiny_two_audio_blocks_{problem}"
  registry.register_hparams(name)(
      lambda: registry.hparams("transformer_tiny").replace(
          audio_blocks=2, ctc_weight=0.5, audio_min_filters=8, **settings))
  try:
    return trainer.train(
        problems=[problem], model="transformer", hparams_set=name,
        data_dir=data_dir, output_dir=out, train_steps=steps,
        eval_every=steps, eval_steps=min(2, steps // 2))
  finally:
    registry.hparams_sets.unregister(name)


def test_train_and_decode_end_to_end(tts_data, tmp_path):
  """A tiny transformer trains on the spectral problem and transcribes."""
  from t2tlite.decode import decoder
  data_dir, _ = tts_data
  out = str(tmp_path / "model")
  # The CTC head must train, be saved and restore into the decoder's model.
  results = _train_tiny("speech_tts_en", data_dir, out, 6,
                        audio_freq_strides=1)
  assert np.isfinite(results["speech_tts_en"]["loss"])
  dec = decoder.Decoder(out, data_dir=data_dir,
                        decode_hparams_text="beam_size=1,max_length=8")
  wav = tmp_path / "a.wav"
  pcm = speech_tts.speak("espeak-ng", ["-v", "en-us"], "Hello world.")
  wav.write_bytes(audio.wav_bytes(np.frombuffer(pcm, "<i2") / 32768.0))
  lines = dec.decode_lines("speech_tts_en", [str(wav), "/no/such.wav"],
                           report=lambda msg: None)
  assert len(lines) == 2 and isinstance(lines[0], str) and lines[1] == ""
  metrics, hyps, refs = dec.evaluate("speech_tts_en", "test")
  assert set(metrics) == {"wer", "cer", "distinct"}
  assert len(hyps) == len(refs) == 3
  assert metrics["distinct"] in (1 / 3, 2 / 3, 1.0)
  assert "ctc_head_0" in {l.name for l in dec.model.layers}
  assert metrics["wer"] >= 0


def test_char_twin_trains_and_decodes(tts_data, tmp_path):
  """speech_tts_en_chars needs no vocabulary file: its bytes are built in,
  so training writes the run and decoding reads it back as text."""
  from t2tlite.decode import decoder
  from t2tlite.train import run_config
  data_dir, _ = tts_data
  out = str(tmp_path / "chars")
  results = _train_tiny("speech_tts_en_chars", data_dir, out, 2,
                        max_length=200)
  assert np.isfinite(results["speech_tts_en_chars"]["loss"])
  cfg = run_config.read(out)
  assert cfg["specs"][0].target_vocab_name == "char"
  assert cfg["vocabularies"] == {}
  assert not os.path.exists(vocab_lib.vocab_path(out, "char"))
  dec = decoder.Decoder(out, data_dir=data_dir,
                        decode_hparams_text="beam_size=1,max_length=12")
  metrics, hyps, refs = dec.evaluate("speech_tts_en_chars", "test")
  assert len(hyps) == len(refs) == 3
  assert all(isinstance(h, str) for h in hyps)
  assert set(refs) <= set(SENTENCES["test"])
  assert set(metrics) == {"wer", "cer", "distinct"}
