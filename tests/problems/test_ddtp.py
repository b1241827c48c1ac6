"""DDTP reader, aligner, splits, shared vocabulary and translation datagen.

Every test reads indexes written here in apt's exact Translation-xx format.
"""
import glob
import hashlib
import json
import os
import shutil

import pytest

from t2tlite.data import problem as problem_lib
from t2tlite.data import pipeline
from t2tlite.data import datagen
from t2tlite.data import data_io
from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import vocab as vocab_lib
from t2tlite.problems import ddtp
from t2tlite.problems import ddtp_text
from t2tlite.problems import translate_ddtp  # pylint: disable=unused-import

NNBSP = "\u202f"  # Narrow no-break space, as French DDTP writes it.

EN = """\
Package: foo
Description-md5: 11111111111111111111111111111111
Description-en: tool that reads image files
 Foo reads image files. It is very fast.
 .
 Foo also writes them. It supports many formats:
   - PNG images
   - JPEG images
     with EXIF data
 .
 This package contains the command-line tool.

Package: bar
Description-md5: 22222222222222222222222222222222
Description-en: library for sound
 Bar plays sound. It uses little memory.
 .
 This package contains the library.

Package: baz
Description-md5: 33333333333333333333333333333333
Description-en: program for maps
 Baz draws maps, e.g. of cities. It prints them.
 .
 It is written in C. It is old.

Package: onlyen
Description-md5: 44444444444444444444444444444444
Description-en: untranslated package
 Nobody translated this package.

"""

DE = """\
Package: foo
Description-md5: 11111111111111111111111111111111
Description-de: Werkzeug, das Bilddateien liest
 Foo liest Bilddateien. Es ist sehr
 schnell.
 .
 Foo schreibt sie auch. Es unterstützt viele Formate:
   - PNG-Bilder
   - JPEG-Bilder
     mit EXIF-Daten
 .
 Dieses Paket enthält das Befehlszeilenwerkzeug.

Package: bar
Description-md5: 22222222222222222222222222222222
Description-de: Bibliothek für Klang
 Bar spielt Klang ab und braucht wenig Speicher.

Package: baz
Description-md5: 33333333333333333333333333333333
Description-de: Programm für Landkarten
 Baz zeichnet Landkarten, z.B. von Städten. Es druckt sie.
 .
 Es ist in C geschrieben und alt.

Package: onlyde
Description-md5: 55555555555555555555555555555555
Description-de: Paket ohne Englisch
 Dieses Paket hat keinen englischen Text.
"""

FR = f"""\
Package: foo
Description-md5: 11111111111111111111111111111111
Description-fr: outil qui lit des fichiers d'image
 Foo lit des fichiers d'image. Il est très rapide{NNBSP}!
 .
 Foo les écrit aussi. Il gère de nombreux formats\u22c5:
   – images PNG{NNBSP};
   — images JPEG
     avec données EXIF.
 .
 Ce paquet fournit l'outil en ligne de commande.

"""


def _records(text, lang):
  return ddtp_text.parse_index(text.splitlines(True), lang)


def test_parse_index_reads_records_and_paragraphs():
  records = _records(EN, "en")
  assert sorted(r.package for r in records.values()) == [
      "bar", "baz", "foo", "onlyen"]
  foo = records["1" * 32]
  assert foo.short == "tool that reads image files"
  paras = ddtp_text.paragraphs(foo.long_lines)
  assert len(paras) == 3
  assert ddtp_text.units(paras[1]) == [
      ("sentence", "Foo also writes them."),
      ("sentence", "It supports many formats:"),
      ("item", "PNG images"), ("item", "JPEG images with EXIF data")]


def test_split_sentences_keeps_abbreviations():
  assert ddtp_text.split_sentences(
      "Baz draws maps, e.g. of cities. It runs on Python 3. It is old.") == [
          "Baz draws maps, e.g. of cities.", "It runs on Python 3.",
          "It is old."]
  assert ddtp_text.split_sentences("Es zeichnet z.B. Karten. Gut!") == [
      "Es zeichnet z.B. Karten.", "Gut!"]


def test_normalize_unicode_spaces():
  assert ddtp_text.normalize(f"très rapide{NNBSP}!\u00a0 « x\u2009»") == (
      "très rapide ! « x »")
  assert ddtp_text.normalize("formats\u22c5: a\u200bb") == "formats : ab"


def test_align_de():
  pairs, stats = ddtp_text.align_records(_records(EN, "en"),
                                         _records(DE, "de"))
  assert ("Foo reads image files.", "Foo liest Bilddateien.") in pairs
  # Lines wrap inside a sentence; paragraphs and list items pair 1:1.
  assert ("It is very fast.", "Es ist sehr schnell.") in pairs
  assert ("JPEG images with EXIF data", "JPEG-Bilder mit EXIF-Daten") in pairs
  assert ("Baz draws maps, e.g. of cities.",
          "Baz zeichnet Landkarten, z.B. von Städten.") in pairs
  # bar: paragraph counts differ -> only its short description.
  assert ("library for sound", "Bibliothek für Klang") in pairs
  assert not any(en.startswith("Bar plays") for en, _ in pairs)
  # baz, 2nd paragraph: 2 sentences against 1 -> skipped; 1st kept.
  assert not any(en.startswith("It is written") for en, _ in pairs)
  assert stats["records_paragraphs_differ"] == 1
  assert stats["paragraphs_units_differ"] == 1
  # onlyen has no German, onlyde no English: neither gives a pair.
  assert stats["records_without_english"] == 1
  assert stats["records_aligned"] == 3
  assert not any("Nobody" in en or "keinen" in de for en, de in pairs)
  assert len(pairs) == len(set(pairs)) == 12


def test_align_fr_normalizes_spaces_and_filters_ratio():
  pairs, _ = ddtp_text.align_records(_records(EN, "en"), _records(FR, "fr"))
  assert ("It is very fast.", "Il est très rapide !") in pairs
  assert ("PNG images", "images PNG ;") in pairs
  assert ("It supports many formats:", "Il gère de nombreux formats :") in pairs
  assert all(NNBSP not in fr and "\u22c5" not in fr for _, fr in pairs)
  assert all(0.5 <= len(fr) / len(en) <= 2 for en, fr in pairs)


# --- a larger fake corpus, for splits and datagen -----------------------------
NOUNS = {"image": "Bild", "sound": "Klang", "text": "Text", "mail": "Post",
         "font": "Schrift", "music": "Musik", "video": "Film", "game": "Spiel",
         "map": "Karten", "disk": "Platten", "network": "Netz",
         "calendar": "Kalender"}
VERBS = {"reads": "liest", "writes": "schreibt", "converts": "wandelt",
         "shows": "zeigt", "prints": "druckt", "checks": "prüft"}


def _fake_corpus(tmp_dir):
  """72 records; boilerplate repeats across packages, as in real DDTP."""
  en, de = [], []
  for i, (noun, noun_de) in enumerate(NOUNS.items()):
    for j, (verb, verb_de) in enumerate(VERBS.items()):
      md5 = hashlib.md5(f"{noun}{verb}".encode()).hexdigest()
      extra = ["This package contains the Python 3 library.",
               "Dieses Paket enthält die Python-3-Bibliothek."]
      if (i + j) % 2:
        extra = ["This package contains the Python 2 library.",
                 "Dieses Paket enthält die Python-2-Bibliothek."]
      en.append(f"Package: {noun}-{verb}\nDescription-md5: {md5}\n"
                f"Description-en: tool that {verb} {noun} files\n"
                f" The {noun} tool {verb} {noun} files quickly. It is free.\n"
                f" .\n {extra[0]}\n")
      de.append(f"Package: {noun}-{verb}\nDescription-md5: {md5}\n"
                f"Description-de: Werkzeug, das {noun_de}-Dateien {verb_de}\n"
                f" Das {noun_de}-Werkzeug {verb_de} {noun_de}-Dateien schnell."
                f" Es ist frei.\n .\n {extra[1]}\n")
  os.makedirs(ddtp.ddtp_dir(tmp_dir), exist_ok=True)
  for lang, records in (("en", en), ("de", de), ("fr", [])):
    with open(ddtp.index_path(tmp_dir, lang), "w") as f:
      f.write("\n".join(records))
  return tmp_dir


@pytest.fixture
def corpus(tmp_path, monkeypatch):
  # A fifth each in dev and test, so that a tiny corpus fills every split.
  monkeypatch.setattr(ddtp, "DEV_PER_MILLE", 200)
  monkeypatch.setattr(ddtp, "TEST_PER_MILLE", 200)
  return _fake_corpus(str(tmp_path / "tmp"))


def test_splits_are_disjoint_and_deterministic(corpus):
  splits = {s: ddtp.aligned_pairs(corpus, "de", s) for s in ddtp.SPLITS}
  assert all(splits.values())
  for side in (0, 1):
    keys = [{ddtp.cluster_key(p[side]) for p in splits[s]}
            for s in ddtp.SPLITS]
    assert not keys[0] & keys[1] and not keys[0] & keys[2]
    assert not keys[1] & keys[2]
  # The Python 2 / Python 3 boilerplate is one cluster, in one split.
  python = [s for s in ddtp.SPLITS
            if any("Python" in en for en, _ in splits[s])]
  assert len(python) == 1
  # Read back from the cache, and rebuilt from scratch: the same lists.
  assert ddtp.aligned_pairs(corpus, "de", "train") == splits["train"]
  shutil.rmtree(os.path.dirname(ddtp._cache_path(corpus, "x")))
  assert ddtp.aligned_pairs(corpus, "de", "test") == splits["test"]


def test_english_sentences_follow_the_same_splits(corpus):
  english = {s: ddtp.english_sentences(corpus, s) for s in ddtp.SPLITS}
  assert all(english.values())
  for split in ddtp.SPLITS:
    assert all(ddtp.split_of(s) == split for s in english[split])
    pairs_en = {en for en, _ in ddtp.aligned_pairs(corpus, "de", split)}
    for other in set(ddtp.SPLITS) - {split}:
      assert not pairs_en & set(english[other])
  assert "The map tool prints map files quickly." in sum(english.values(), [])


def test_shared_vocab_text_is_train_text_of_all_languages(corpus):
  spec = vocab_lib.vocab_spec("shared_subword_8k")
  assert spec.size == 8192
  lines = list(spec.text_fn(corpus))
  train = ddtp.aligned_pairs(corpus, "de", "train")
  assert set(lines) == {s for pair in train for s in pair}
  assert len(lines) == len(set(lines))


def test_fetch_indexes_with_apt(tmp_path, monkeypatch):
  """A stand-in apt writes index files; only bookworm main ones are read."""
  bin_dir = tmp_path / "bin"
  bin_dir.mkdir()
  names = {
      "h_debian_dists_bookworm_main_i18n_Translation-de.lz4": "Package: a\n",
      "h_debian-security_dists_bookworm-security_main_i18n_Translation-de":
          "Package: b\n",
      "h_debian_dists_bookworm_contrib_i18n_Translation-de.lz4": "Package: c\n",
      "h_debian_dists_bookworm-backports_main_i18n_Translation-de": "P: d\n",
      "h_debian_dists_bookworm_main_i18n_Translation-en.lz4": "Package: e\n",
      "h_debian_dists_bookworm_main_i18n_Translation-fr.lz4": "Package: f\n"}
  writes = "".join(f"printf '{text}' > \"$L/{name}\"\n"
                   for name, text in names.items())
  (bin_dir / "apt-get").write_text(
      "#!/bin/sh\nfor a; do case $a in Dir::State::Lists=*) "
      "L=${a#*=};; esac; done\n" + writes)
  (bin_dir / "apt-helper").write_text("#!/bin/sh\ncat \"$2\"\n")
  for f in bin_dir.iterdir():
    f.chmod(0o755)
  monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
  monkeypatch.setattr(ddtp, "APT_HELPER", str(bin_dir / "apt-helper"))
  paths = ddtp.fetch_indexes(str(tmp_path))
  with open(paths["de"]) as f:
    assert f.read().split() == ["Package:", "a", "Package:", "b"]
  assert not glob.glob(os.path.join(ddtp.ddtp_dir(str(tmp_path)), "*.tmp*"))


def test_fetch_indexes_without_apt(tmp_path, monkeypatch):
  monkeypatch.setattr(shutil, "which", lambda name: None)
  with pytest.raises(system_deps.MissingDependency, match="Translation-en"):
    ddtp.fetch_indexes(str(tmp_path))


# --- datagen ------------------------------------------------------------------
def _metas(data_dir, name):
  return {s: data_io.read_meta(data_dir, name, s) for s in ddtp.SPLITS}


def test_datagen_writes_shards_and_rev_reads_them(corpus, tmp_path,
                                                 monkeypatch):
  import tensorflow as tf
  monkeypatch.setattr(vocab_lib.vocab_spec("shared_subword_8k"), "size", 100)
  data_dir = str(tmp_path / "data")
  os.makedirs(data_dir)  # Problem.generate_data does not create it (yet).
  problem = registry.problem("translate_ende_ddtp")
  datagen.generate_data(problem, data_dir, corpus)
  names = sorted(os.path.basename(p) for p in
                 glob.glob(os.path.join(data_dir, "translate_ende_ddtp-*")))
  assert "translate_ende_ddtp-train-00003-of-00004" in names
  assert "translate_ende_ddtp-test-00000-of-00001" in names
  assert os.path.exists(vocab_lib.vocab_path(data_dir, "shared_subword_8k"))
  for split in ddtp.SPLITS:
    assert pipeline.num_examples(problem, data_dir, split) == len(
        ddtp.aligned_pairs(corpus, "de", split))

  hparams = None  # a text problem's codecs do not read hparams.
  forward = list(pipeline.dataset(problem, data_dir, "test", hparams, False)
                 .as_numpy_iterator())
  reverse_problem = registry.problem("translate_ende_ddtp_rev")
  reverse = list(pipeline.dataset(reverse_problem, data_dir, "test",
                                 hparams, False).as_numpy_iterator())
  assert forward and len(forward) == len(reverse)
  for f, r in zip(forward, reverse):
    assert f["inputs"].dtype == tf.int64.as_numpy_dtype
    assert f["inputs"][-1] == f["targets"][-1] == vocab_lib.EOS_ID
    assert list(f["inputs"]) == list(r["targets"])
    assert list(f["targets"]) == list(r["inputs"])
  en, de = ddtp.aligned_pairs(corpus, "de", "test")[0]
  vocab = problem_lib.vocab(problem, data_dir)
  assert vocab.decode(forward[0]["inputs"]) == en
  assert vocab.decode(forward[0]["targets"]) == de
  assert problem_lib.spec(problem, data_dir).task_token == "to_de"
  assert problem_lib.spec(reverse_problem, data_dir).task_token == "to_en"
  assert reverse_problem.name == "translate_ende_ddtp_rev"


def test_interrupted_datagen_leaves_no_partial_shard(corpus, tmp_path,
                                                     monkeypatch):
  monkeypatch.setattr(vocab_lib.vocab_spec("shared_subword_8k"), "size", 100)
  name = "translate_ende_ddtp"
  clean_dir, data_dir = str(tmp_path / "clean"), str(tmp_path / "data")
  os.makedirs(clean_dir)
  datagen.generate_data(registry.problem(name), clean_dir, corpus)
  os.makedirs(data_dir)
  vocab_file = os.path.basename(vocab_lib.vocab_path(clean_dir,
                                                     "shared_subword_8k"))
  shutil.copy(os.path.join(clean_dir, vocab_file), data_dir)

  real_pairs = translate_ddtp.TranslateEndeDdtp.text_pairs

  def crashing_pairs(self, tmp_dir, split):
    for i, pair in enumerate(real_pairs(self, tmp_dir, split)):
      if split == "dev" and i == 3:
        raise KeyboardInterrupt("simulated interruption")
      yield pair

  with monkeypatch.context() as m:
    m.setattr(translate_ddtp.TranslateEndeDdtp, "text_pairs", crashing_pairs)
    with pytest.raises(KeyboardInterrupt):
      datagen.generate_data(registry.problem(name), data_dir, corpus)
  assert data_io.find_shards(data_dir, name, "train")
  assert not glob.glob(os.path.join(data_dir, f"{name}-dev-?????-of-?????"))
  assert not glob.glob(os.path.join(data_dir, f"{name}-test-*"))

  written = datagen.generate_data(registry.problem(name), data_dir, corpus)
  assert sorted(written) == ["dev", "test"]  # Train was complete already.
  assert not glob.glob(os.path.join(data_dir, "*.incomplete"))
  assert _metas(data_dir, name).keys() == _metas(clean_dir, name).keys()
  for split, meta in _metas(data_dir, name).items():
    clean = _metas(clean_dir, name)[split]
    assert (meta["examples"], meta["sha256"]) == (clean["examples"],
                                                  clean["sha256"])
  with open(os.path.join(data_dir, f"{name}-dev.meta.json")) as f:
    assert json.load(f)["examples"] > 0
