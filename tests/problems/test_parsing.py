"""Parsing problems: PTB reader, SILVER link-grammar trees, scoring, e2e."""
import json
import os

import numpy as np
import pytest

from t2tlite.data import pipeline
from t2tlite.data import problem as problem_lib
from t2tlite import metrics
from t2tlite import registry
from t2tlite.data import codecs
from t2tlite.decode import decoder
from t2tlite.decode import search
from t2tlite.data import trees
from t2tlite.data import vocab as vocab_lib
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


def _real_parser():
  """The link-grammar bindings, installed (as root) if missing: the tests
  of the real parser fail rather than skip without them."""
  link_grammar.import_bindings(install=True)


def test_real_parser():
  _real_parser()
  parser = link_grammar.SilverParser(install=False)
  sentence, _, _, expected = CAPTURED[0]
  assert parser.parse(sentence).to_string() == expected
  # Unknown words with brackets: no complete parse, so no tree.
  assert parser.parse("This package provides the {core} libraries for "
                      "frobnicating.") is None


def test_a_sentence_the_parser_runs_out_of_time_on_gets_no_tree(monkeypatch):
  """link-grammar raises when max_parse_time runs out (it did on one of
  52,000 DDTP sentences); datagen must go on without that sentence."""
  _real_parser()
  parser = link_grammar.SilverParser(install=False)
  lg = link_grammar.import_bindings(install=False)

  def out_of_time(*args, **kwargs):
    raise lg.LG_TimerExhausted()

  monkeypatch.setattr(lg, "Sentence", out_of_time)
  assert parser.parse("The parser runs out of time .") is None


def test_real_parser_in_parallel_keeps_order():
  _real_parser()
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
    with pytest.raises(registry.RegistryError, match="cannot be reversed"):
      registry.problem(name + "_rev")


# Brackets, punctuation words and "e.g." in one tree (leaves escaped).
PUNCT_TREE = trees.Tree("S", [
    trees.Tree("NP", ["The", "dog"]), "-LRB-", "e.g.", ",", "barks", "-RRB-",
    trees.Tree("VP", ["runs", trees.Tree("ADVP", ["--", "fast"])]), "..."])


def fake_vocab(data_dir):
  """A tiny stand-in for shared_subword_8k (which needs the DDTP download),
  keeping the tree pieces whole as that one does."""
  os.makedirs(data_dir, exist_ok=True)
  lines = [s for v in fake_sentences().values() for s in v] * 3 + [
      "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )"] * 20 + [
          trees.sentence(PUNCT_TREE), trees.linearize(PUNCT_TREE),
          trees.linearize(PUNCT_TREE, None)] * 6
  vocab_lib.train_subword_vocab(
      vocab_lib.vocab_path(data_dir, "shared_subword_8k"), lines, 120,
      symbols=trees.vocab_symbols())


def test_decode_format_and_score_through_problem(tmp_path):
  data_dir = str(tmp_path)
  fake_vocab(data_dir)
  problem = registry.problem("parsing_english_silver")
  hparams = registry.hparams("transformer_tiny")
  pair = codecs.for_problem(problem, data_dir)
  ids, warning = pair.inputs.from_line("The cat sees the ball.", hparams)
  assert warning is None
  vocab = problem_lib.vocab(problem, data_dir)
  assert vocab.decode(ids) == "The cat sees the ball ."
  with pytest.raises(ValueError):
    pair.inputs.from_line("   ", hparams)
  tree = "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )"
  out = pair.targets.to_text(vocab.encode(tree) + [vocab_lib.EOS_ID],
                             decoder.decode_hparams().values())
  assert trees.rebuild(out) == trees.rebuild(tree)
  assert "\n" not in out
  scores = metrics.score(problem, [out, "(S (NP XX XX ) (VP XX"], [tree, tree])
  # The repaired second tree covers 3 words: only its NP (0, 2) matches.
  assert scores["labelled_recall"] == 100 * 5 / 8
  assert scores["malformed"] == 1 and scores["length_mismatch"] == 1


def forced_path(problem, data_dir, inputs, targets):
  """Feeds target ids through the problem's tree constraint for inputs
  (under the decode limit the decoder would use); the first step whose
  token is refused, or None."""
  import tensorflow as tf
  from t2tlite.decode import tree_constraint
  target = codecs.for_problem(problem, data_dir).targets
  decoding = tree_constraint.for_grammar(target.grammar())
  features, mins = decoding.prepare([inputs])
  limit = max(target.decode_length(len(inputs)), int(mins[0]))
  cons = decoding.constraint(tuple(tf.constant(f) for f in features),
                             tf.constant([limit]))
  assert isinstance(cons, tree_constraint.TreeConstraint)
  state = cons.initial_state()
  for i, tok in enumerate(targets):
    if i >= limit or not bool(cons.allowed(state, i)[0, tok]):
      return i
    state = cons.update(state, tf.constant([tok]), i)
  return None


@pytest.mark.parametrize("name", ["parsing_english_silver",
                                  "parsing_english_silver_words"])
def test_constraint_leaves_are_the_training_targets_leaves(silver, tmp_path,
                                                           name):
  """The leaves the constraint forces, derived from the input ids alone,
  are those of the training target, piece for piece: the targets pass."""
  data_dir, tmp_dir = str(tmp_path / "data"), str(tmp_path / "tmp")
  fake_vocab(data_dir)
  problem = registry.problem(name)
  vocab = problem_lib.vocab(problem, data_dir)
  pairs = [p for split in ("train", "test")
           for p in problem.text_pairs(tmp_dir, split)]
  pairs.append((trees.sentence(PUNCT_TREE), problem.linearize(PUNCT_TREE)))
  # An unknown character (decoded as " \u2047 ") stays in its word.
  odd = trees.Tree("S", [trees.Tree("NP", ["Z\u00ebbra", "cat"]), "."])
  pairs.append((trees.sentence(odd), problem.linearize(odd)))
  assert vocab.encode("\u00eb") == [vocab.encode("\u00eb")[0], 2]
  assert 2 not in vocab.encode(problem.linearize(PUNCT_TREE))
  for src, tgt in pairs:
    inputs = np.array(vocab.encode(src) + [vocab_lib.EOS_ID], np.int64)
    targets = vocab.encode(tgt) + [vocab_lib.EOS_ID]
    leaves = codecs.for_problem(problem, data_dir).targets.tree_leaves(
        inputs)
    # As the vocabulary spells them (an unknown character is "\u2047").
    spelt = ["".join(vocab.decode(vocab.encode(leaf)).split())
             for leaf in trees.rebuild(tgt).leaves()]
    assert ["".join(vocab.decode(p).split()) for _, p in leaves] == spelt
    if src != trees.sentence(odd):
      assert [text for text, _ in leaves] == trees.rebuild(tgt).leaves()
    assert forced_path(problem, data_dir, inputs, targets) is None, tgt
    # And a target with one leaf too many, or one too few, does not.
    wrong = vocab.encode(tgt.replace(" )", " XX )", 1)) + [1]
    assert forced_path(problem, data_dir, inputs, wrong) is not None
  words = registry.problem(name).leaf
  assert (words("dog"), words(","), words("("), words("...")) == (
      ("dog", ",", "-LRB-", "...") if problem.keep_words else
      ("XX", ",", "XX", "..."))


def test_with_words_puts_the_line_words_in_the_tree():
  tree = "(S (NP XX XX ) (VP XX ) . )"
  assert parsing.with_words(tree, ["The", "(dog)", "barks", "."]) == (
      "(S (NP The -LRB-dog-RRB- ) (VP barks ) . )")
  # A cut input: the first words. A malformed tree, or too few words: as is.
  assert parsing.with_words("(S XX . )", ["Hi", ".", "more"]) == "(S Hi . )"
  assert parsing.with_words("(S (NP XX ) . )", ["Hi"]) == "(S (NP XX ) . )"
  assert parsing.with_words("(S (NP XX . )", ["A", "."]) == "(S (NP XX . )"


def test_format_output_for_input(tmp_path):
  data_dir = str(tmp_path)
  fake_vocab(data_dir)
  problem = registry.problem("parsing_english_silver")
  vocab = problem_lib.vocab(problem, data_dir)
  ids = vocab.encode("(S (NP XX XX ) (VP XX (NP XX XX ) ) . )") + [1]
  line = "The  cat sees the ball."
  target = codecs.for_problem(problem, data_dir).targets
  dhp = decoder.decode_hparams().values()
  assert target.to_text(ids, dhp, line) == (
      "(S (NP The cat ) (VP sees (NP the ball ) ) . )")
  assert target.to_text(ids, dict(dhp, tree_words=False), line) == (
      "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )")


def test_input_words_split_as_sentencepiece_does(tmp_path):
  import sentencepiece as spm
  data_dir = str(tmp_path)
  fake_vocab(data_dir)
  problem = registry.problem("parsing_english_silver")
  vocab = problem_lib.vocab(problem, data_dir)
  lone = spm.SentencePieceProcessor(model_file=vocab.path).piece_to_id(
      "\u2581")
  ids = vocab.encode("The cat \u00ebats , (") + [lone, 1, 0, 0]
  target = codecs.for_problem(problem, data_dir).targets
  words = target.input_words(np.array(ids))
  # The unknown character stays in its word; the lone piece at the end
  # (an input cut at max_length) is no word; EOS ends the words.
  assert [w for w, _ in words] == ["The", "cat", "\u2047ats", ",", "("]
  assert [p for _, g in words for p in g] == ids[:-4]
  assert [leaf for leaf, _ in target.tree_leaves(ids)] == [
      "XX", "XX", "XX", ",", "XX"]


def _check_trees(outs, expected_leaves):
  """Every output is a well-formed tree with exactly the expected leaves."""
  assert len(outs) == len(expected_leaves)
  for out, leaves in zip(outs, expected_leaves):
    assert trees.rebuild(out).leaves() == leaves, out  # rebuild: strict


def test_train_and_decode_end_to_end(silver, tmp_path):
  from t2tlite.data import datagen
  from t2tlite.train import trainer
  data_dir, tmp_dir = str(tmp_path / "data"), str(tmp_path / "tmp")
  out_dir = str(tmp_path / "run")
  fake_vocab(data_dir)
  datagen.generate(["parsing_english_silver"], data_dir, tmp_dir)
  problem = registry.problem("parsing_english_silver")
  assert pipeline.num_examples(problem, data_dir, "train") == sum(
      "reads" not in s for s in silver["train"])
  trainer.train(problems=["parsing_english_silver"], model="transformer",
                hparams_set="transformer_tiny", data_dir=data_dir,
                output_dir=out_dir, train_steps=40, eval_every=40,
                eval_steps=2, log_every=20)
  name = "parsing_english_silver"
  # One word, a few, and a long line with brackets and unknown characters.
  lines = ["Hello", "The cat sees the ball.", "A dog likes some files.",
           "Quizzical zebras (and jolly yaks) -- e.g. Vexed owls, which "
           "my friend sees -- find the red car, a book and some files "
           "near the old man's house; this tool likes them all..."]
  # The long line is cut at max_length pieces: its tree has the words left.
  pair = codecs.for_problem(problem, data_dir)
  hp = registry.hparams("transformer_tiny")
  kept = [len(pair.targets.input_words(pair.inputs.from_line(l, hp)[0]))
          for l in lines]
  words = [parsing.tokenize_words(l).split()[:n] for l, n in zip(lines, kept)]
  assert kept[:3] == [1, 6, 6] and 10 < kept[-1] < len(
      parsing.tokenize_words(lines[-1]).split())
  placeholders = [[w if trees.is_punctuation(w) else "XX" for w in ws]
                  for ws in words]
  for beam in (1, 3):
    dec = decoder.Decoder(out_dir, data_dir=data_dir,
                          decode_hparams_text=f"beam_size={beam}")
    outs = dec.decode_lines(name, lines)
    # The user's words are the leaves (escaped as in the treebank).
    _check_trees(outs, [[trees.escape_word(w) for w in ws] for ws in words])
    assert "-LRB-" in outs[-1] and "zebras" in outs[-1]
    scores, hyps, refs = dec.evaluate(name, "test")
    assert scores["sentences"] == len(refs) == len(hyps) > 0
    assert scores["malformed"] == 0 and scores["length_mismatch"] == 0
    _check_trees(hyps, [trees.rebuild(r).leaves() for r in refs])
    assert 0.0 <= scores["labelled_f1"] <= 100.0
  # Placeholders kept on request.
  dec = decoder.Decoder(out_dir, data_dir=data_dir,
                        decode_hparams_text="beam_size=2,tree_words=false")
  _check_trees(dec.decode_lines(name, lines), placeholders)
  # A decode limit below what the tree needs is raised to it.
  dec = decoder.Decoder(out_dir, data_dir=data_dir,
                        decode_hparams_text="beam_size=2,max_length=4")
  _check_trees(dec.decode_lines(name, lines), [
      [trees.escape_word(w) for w in ws] for ws in words])
  # constrained=false: the model's own output, still measured.
  used = []
  real = search.greedy_search

  def spy(*args, **kwargs):
    used.append(kwargs.get("constraint"))
    return real(*args, **kwargs)

  with pytest.MonkeyPatch.context() as m:
    m.setattr(search, "greedy_search", spy)
    dec = decoder.Decoder(out_dir, data_dir=data_dir,
                          decode_hparams_text="beam_size=1,constrained=false")
    outs = dec.decode_lines(name, lines)
    scores, hyps, refs = dec.evaluate(name, "test")
  assert used and all(c is None for c in used)
  assert len(outs) == len(lines) and all("\n" not in o for o in outs)
  assert scores["sentences"] == len(refs) == len(hyps) > 0
  assert 0 <= scores["malformed"] <= len(hyps)
