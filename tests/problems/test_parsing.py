"""Parsing problems: PTB reader, SILVER link-grammar trees, scoring, e2e."""
import json
import os

import pytest

from t2tlite import registry
from t2tlite import system_deps
from t2tlite import trees
from t2tlite import vocab as vocab_lib
from t2tlite.problems import ddtp
from t2tlite.problems import link_grammar
from t2tlite.problems import parsing

# --- link-grammar output normalisation -------------------------------------
# Captured from the real parser (Debian link-grammar 5.12.0, dictionary
# 5.11.0): SilverParser().constituents(sentence) -> (tree string, spans).
CAPTURED = [
    ("The program converts images (PNG files) into text.",
     "(S (NP the program.n)\n   (VP converts.v\n       (NP (NP images.n)\n"
     "           (NP { PNG{!<ALL-UPPER>} files.n }))\n"
     "       (PP into text.n-u))\n   .)\n",
     [(0, 3), (4, 11), (12, 20), (21, 27), (28, 29), (29, 32), (33, 38),
      (38, 39), (40, 44), (45, 49), (49, 50)],
     "(S (NP The program) (VP converts (NP (NP images) (NP -LRB- PNG files "
     "-RRB-)) (PP into text)) .)"),
    ("Don't remove the user's files, e.g. \"config\" ones; run it at 3:00.",
     "(S (S (VP don't\n          (VP remove.v\n              (NP (NP the "
     "user.n 's.p)\n                  files.n , e.g.\n                  (NP "
     "\"config\"{!<QUOTED-WORD>}.a ones)))))\n   ; run.v\n   (NP (NP it)\n"
     "       (PP at\n           (NP 3:00{!<HMS-TIME>})))\n   .)\n",
     [(0, 5), (6, 12), (13, 16), (17, 21), (21, 23), (24, 29), (29, 30),
      (31, 35), (36, 44), (45, 49), (49, 50), (51, 54), (55, 57), (58, 60),
      (61, 65), (65, 66)],
     "(S (S (VP Don't (VP remove (NP (NP the user 's) files , e.g. (NP "
     "\"config\" ones))))) ; run (NP (NP it) (PP at (NP 3:00))) .)"),
    ("It supports C++ and C# (as well as Java).",
     "(S (NP it)\n   (VP supports.v\n       (NP C++{?}.n and.j-n C#{?}.n\n"
     "           (PP { as well as\n               (NP "
     "Java{!<CAPITALIZED-WORDS>})\n               })))\n   .)\n",
     [(0, 2), (3, 11), (12, 15), (16, 19), (20, 22), (23, 24), (24, 26),
      (27, 31), (32, 34), (35, 39), (39, 40), (40, 41)],
     "(S (NP It) (VP supports (NP C++ and C# (PP -LRB- as well as (NP Java) "
     "-RRB-))) .)"),
    # Multi-byte characters: spans are UTF-8 byte offsets.
    ("\u00dcber-cool caf\u00e9 software runs on Ubuntu.",
     "(S (NP \u00dcber-cool{!<CAPITALIZED-WORDS>} caf\u00e9.n "
     "software.n-u)\n   (VP runs.v\n       (PP on\n           (NP "
     "Ubuntu{!<CAPITALIZED-WORDS>})))\n   .)\n",
     [(0, 10), (11, 16), (17, 25), (26, 30), (31, 33), (34, 40), (40, 41)],
     "(S (NP \u00dcber-cool caf\u00e9 software) (VP runs (PP on (NP "
     "Ubuntu))) .)"),
]
# With linkage_limit=1 the parser once printed this tree, which leaves out
# the words after a conjunction: 6 leaves for 20 words.
TRUNCATED = (
    "The astropy package contains core functionality and some common tools "
    "needed for performing astronomy and astrophysics research with Python.",
    "(S (NP the astropy{?}.a package.n)\n   (VP contains.v\n       (NP "
    "core.n functionality.n-u)))\n",
    [(0, 3), (4, 11), (12, 19), (20, 28), (29, 33), (34, 47), (48, 51),
     (52, 56), (57, 63), (64, 69), (70, 76), (77, 80), (81, 91), (92, 101),
     (102, 105), (106, 118), (119, 127), (128, 132), (133, 139), (139, 140)])


@pytest.mark.parametrize("sentence,constituents,spans,expected", CAPTURED)
def test_link_grammar_output_normalised(sentence, constituents, spans,
                                        expected):
  tree = link_grammar.to_tree(constituents, sentence, spans)
  assert tree.to_string() == expected
  # No subscript, marker or lowercased first word survives.
  assert not any(".n" in w or "{" in w for w in tree.leaves())


def test_link_grammar_truncated_tree_is_rejected():
  assert link_grammar.to_tree(*TRUNCATED) is None
  assert link_grammar.to_tree("(S (NP it", "It", [(0, 2)]) is None


def _real_parser_or_skip():
  try:
    link_grammar.import_bindings(install=False)
  except system_deps.MissingDependency as e:
    pytest.skip(f"link-grammar not installed: {e}")


def test_real_parser():
  _real_parser_or_skip()
  parser = link_grammar.SilverParser(install=False)
  sentence, _, _, expected = CAPTURED[0]
  assert parser.parse(sentence).to_string() == expected
  # Unknown words with brackets: no complete parse, so no tree.
  assert parser.parse("This package provides the {core} libraries for "
                      "frobnicating.") is None


def test_real_parser_in_parallel_keeps_order():
  _real_parser_or_skip()
  sentences = [c[0] for c in CAPTURED] * 2
  got = list(link_grammar.parse_many(sentences, processes=2))
  assert [s for s, _ in got] == sentences
  assert [t for _, t in got] == [c[3] for c in CAPTURED] * 2


# --- Penn Treebank ---------------------------------------------------------
def _mrg(words):
  """One tree in the .mrg layout: multi-line, "( (S ...) )" wrapper."""
  return ("( (S \n    (NP-SBJ (DT The) (NN " + words[0] + ") )\n"
          "    (VP (VBZ " + words[1] + ") \n"
          "      (NP (-NONE- *T*-1) ))\n    (. .) ))\n")


def write_fake_wsj(root):
  for section in range(25):
    folder = os.path.join(root, "wsj", f"{section:02d}")
    os.makedirs(folder)
    for n in (0, 1) if section in (2, 22, 23) else (0,):
      with open(os.path.join(folder, f"wsj_{section:02d}{n:02d}.mrg"),
                "w") as f:
        if section == 2:  # Treebank-2 banner lines.
          f.write("*x*" + " " * 20 + "Copyright (C) 1990" + " *x*\n")
        f.write(_mrg([f"dog{section}x{n}a", "barks"]) +
                _mrg([f"dog{section}x{n}b", "sleeps"]))


def test_ptb_reader_and_standard_split(tmp_path):
  tmp_dir = str(tmp_path)
  write_fake_wsj(os.path.join(tmp_dir, "ptb"))
  problem = registry.problem("parsing_english_ptb")
  pairs = {s: list(problem.text_pairs(tmp_dir, s))
           for s in ("train", "dev", "test")}
  # Sections 02 (2 files) and 03..21 (1 file each), two trees a file.
  assert len(pairs["train"]) == (2 + 19) * 2
  assert {p[0].split()[1].split("x")[0] for p in pairs["train"]} == {
      f"dog{s}" for s in range(2, 22)}
  assert pairs["train"][0] == ("The dog2x0a barks .",
                               "(S (NP XX XX ) (VP XX ) . )")
  assert {p[0].split()[1].split("x")[0] for p in pairs["dev"]} == {"dog22"}
  assert {p[0].split()[1].split("x")[0] for p in pairs["test"]} == {"dog23"}
  words = registry.problem("parsing_english_ptb_words")
  assert next(iter(words.text_pairs(tmp_dir, "test")))[1] == (
      "(S (NP The dog23x0a ) (VP barks ) . )")


def test_ptb_location_from_env_and_error(tmp_path, monkeypatch):
  root = str(tmp_path / "treebank_3")
  write_fake_wsj(os.path.join(root, "parsed", "mrg"))
  problem = registry.problem("parsing_english_ptb")
  with pytest.raises(Exception, match=parsing.PTB_ENV):
    list(problem.text_pairs(str(tmp_path / "elsewhere"), "dev"))
  monkeypatch.setenv(parsing.PTB_ENV, root)
  assert len(list(problem.text_pairs(str(tmp_path / "elsewhere"), "dev"))
            ) == 2 * 2


# --- SILVER problem with fake sentences and a fake parser -----------------
SUBJECTS = ["the cat", "a dog", "my friend", "the old man", "this tool"]
VERBS = ["sees", "likes", "reads", "finds"]
OBJECTS = ["the ball", "a book", "some files", "the red car"]


def fake_sentences():
  all_ = [f"{s.capitalize()} {v} {o}." for s in SUBJECTS for v in VERBS
          for o in OBJECTS]
  return {"train": all_[:60], "dev": all_[60:70], "test": all_[70:]}


def fake_parse_many(sentences, processes=2, label=""):
  """Subject NP, VP with object NP; "reads" gets no complete parse."""
  for s in sentences:
    words = s[:-1].split()
    if "reads" in words:
      yield s, None
      continue
    v = next(i for i, w in enumerate(words) if w in VERBS)
    yield s, (f"(S (NP {' '.join(words[:v])}) (VP {words[v]} "
              f"(NP {' '.join(words[v + 1:])})) .)")


@pytest.fixture
def silver(monkeypatch):
  sents = fake_sentences()
  leaked = sents["train"][0]  # A broken split must not leak into test.
  monkeypatch.setattr(ddtp, "english_sentences", lambda tmp_dir, split: (
      sents[split] + ["Too short.", " ".join(["word"] * 26) + "."] +
      ([leaked, sents["test"][0]] if split == "test" else [])))
  monkeypatch.setattr(link_grammar, "parse_many", fake_parse_many)
  return sents


def test_silver_pairs_filtered_split_and_cached(silver, tmp_path):
  tmp_dir = str(tmp_path)
  problem = registry.problem("parsing_english_silver")
  pairs = {s: list(problem.text_pairs(tmp_dir, s))
           for s in ("train", "dev", "test")}
  sentences = {s: [p[0] for p in v] for s, v in pairs.items()}
  for a, b in [("train", "dev"), ("train", "test"), ("dev", "test")]:
    assert not set(sentences[a]) & set(sentences[b])
  assert len(sentences["test"]) == len(set(sentences["test"]))
  assert all(3 <= len(s.split()) <= 26 for v in sentences.values()
             for s in v)  # 25 words + the final "."
  assert not any("reads" in s for v in sentences.values() for s in v)
  assert pairs["train"][0] == ("The cat sees the ball .",
                               "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )")
  stats_path = problem.cache_path(tmp_dir, "train")[:-4] + ".stats.json"
  with open(stats_path) as f:
    stats = json.load(f)
  parsed = sum("reads" not in s for s in silver["train"])
  assert stats["sentences"] == 60 and stats["complete_parses"] == parsed
  assert stats["yield"] == round(parsed / 60, 4)
  # A second call reads the cache: no parser is needed.
  problem_words = registry.problem("parsing_english_silver_words")
  with pytest.MonkeyPatch.context() as m:
    m.setattr(link_grammar, "parse_many", None)
    words_pairs = list(problem_words.text_pairs(tmp_dir, "train"))
  assert words_pairs[0][1] == (
      "(S (NP The cat ) (VP sees (NP the ball ) ) . )")


def test_problem_declarations():
  for name in ("parsing_english_ptb", "parsing_english_ptb_words",
               "parsing_english_silver", "parsing_english_silver_words"):
    problem = registry.problem(name)
    assert problem.task_token == "to_parse_tree"
    assert problem.vocab_name == "shared_subword_8k"
    with pytest.raises(ValueError):
      problem.set_reversed()
  with pytest.raises(Exception):
    registry.problem("parsing_english_silver_rev")


def fake_vocab(data_dir):
  """A tiny stand-in for shared_subword_8k (which needs the DDTP download)."""
  os.makedirs(data_dir, exist_ok=True)
  lines = [s for v in fake_sentences().values() for s in v] * 3 + [
      "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )"] * 20
  vocab_lib.train_subword_vocab(
      vocab_lib.vocab_path(data_dir, "shared_subword_8k"), lines, 120)


def test_decode_format_and_score_through_problem(tmp_path):
  data_dir = str(tmp_path)
  fake_vocab(data_dir)
  problem = registry.problem("parsing_english_silver")
  hparams = registry.hparams("transformer_tiny")
  ids, warning = problem.decode_input("The cat sees the ball.", data_dir,
                                      hparams)
  assert warning is None
  vocab = problem.vocab(data_dir)
  assert vocab.decode(ids) == "The cat sees the ball ."
  with pytest.raises(ValueError):
    problem.decode_input("   ", data_dir, hparams)
  tree = "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )"
  out = problem.format_output(vocab.encode(tree) + [vocab_lib.EOS_ID],
                              data_dir, {})
  assert trees.rebuild(out) == trees.rebuild(tree)
  assert "\n" not in out
  scores = problem.score([out, "(S (NP XX XX ) (VP XX"], [tree, tree])
  # The repaired second tree covers 3 words: only its NP (0, 2) matches.
  assert scores["labelled_recall"] == 100 * 5 / 8
  assert scores["malformed"] == 1 and scores["length_mismatch"] == 1


def test_train_and_decode_end_to_end(silver, tmp_path):
  from t2tlite import datagen
  from t2tlite import decoder
  from t2tlite import trainer
  data_dir, tmp_dir = str(tmp_path / "data"), str(tmp_path / "tmp")
  out_dir = str(tmp_path / "run")
  fake_vocab(data_dir)
  datagen.generate(["parsing_english_silver"], data_dir, tmp_dir)
  problem = registry.problem("parsing_english_silver")
  assert problem.num_examples(data_dir, "train") == sum(
      "reads" not in s for s in silver["train"])
  trainer.train(problems=["parsing_english_silver"], model="transformer",
                hparams_set="transformer_tiny", data_dir=data_dir,
                output_dir=out_dir, train_steps=40, eval_every=40,
                eval_steps=2, log_every=20)
  dec = decoder.Decoder(out_dir, data_dir=data_dir,
                        decode_hparams_text="beam_size=1")
  lines = ["The cat sees the ball.", "A dog likes some files."]
  outs = dec.decode_lines("parsing_english_silver", lines)
  assert len(outs) == 2 and all("\n" not in o for o in outs)
  scores, hyps, refs = dec.evaluate("parsing_english_silver", "test")
  assert scores["sentences"] == len(refs) == len(hyps) > 0
  assert 0.0 <= scores["labelled_f1"] <= 100.0
  assert 0 <= scores["malformed"] <= len(hyps)
