"""Trees: PTB reading and clean-up, linearising, rebuilding and repair."""
from hypothesis import given, settings
from hypothesis import strategies as st
import io

import pytest

from t2tlite.data import trees

LABELS = ["S", "NP", "VP", "PP", "SBAR", "ADJP", "WHNP", "-LRB-"]
WORDS = ["the", "dog", "XX", ".", ",", "''", "-LRB-", "U.S.", "3:00", "'s",
         "caf\u00e9", "e.g."]


def random_trees():
  leaf = st.sampled_from(WORDS)
  return st.recursive(
      st.builds(trees.Tree, st.sampled_from(LABELS),
                st.lists(leaf, min_size=1, max_size=3)),
      lambda sub: st.builds(trees.Tree, st.sampled_from(LABELS),
                            st.lists(sub | leaf, min_size=1, max_size=4)),
      max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(random_trees())
def test_linearize_rebuild_round_trip_with_words(tree):
  text = trees.linearize(tree, placeholder=None)
  assert trees.rebuild(text) == tree
  assert trees.repair(text) == (tree, False)


@settings(max_examples=200, deadline=None)
@given(random_trees())
def test_placeholder_keeps_structure_and_punctuation(tree):
  rebuilt = trees.rebuild(trees.linearize(tree))
  assert rebuilt.to_string().count("(") == tree.to_string().count("(")
  expected = [w if trees.is_punctuation(w) else "XX" for w in tree.leaves()]
  assert rebuilt.leaves() == expected
  # Putting the words back gives the original tree.
  words = iter(tree.leaves())

  def put_back(node):
    return trees.Tree(node.label, [put_back(c) if isinstance(c, trees.Tree)
                                   else next(words) for c in node.children])
  assert put_back(rebuilt) == tree


def test_linearization_format():
  tree = trees.parse("(S (NP (DT The) (NN dog)) (VP (VBZ has) (NP (DT a) "
                     "(NN bone))) (. .))")
  plain = trees.normalize_ptb(tree)
  assert trees.linearize(plain) == (
      "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )")
  assert trees.linearize(plain, None) == (
      "(S (NP The dog ) (VP has (NP a bone ) ) . )")
  assert trees.sentence(plain) == "The dog has a bone ."
  with_pos = trees.normalize_ptb(tree, keep_pos=True)
  assert trees.linearize(with_pos).startswith("(S (NP (DT XX ) (NN XX ) )")


MRG = """\
( (S 
    (NP-SBJ-1 (NNP Pierre) (NNP Vinken) )
    (VP (MD will) 
      (VP (VB join) 
        (NP (DT the) (NN board) )
        (S 
          (NP-SBJ (-NONE- *-1) )
          (VP (TO to) (VP (VB leave) )))
        (PP-CLR (IN as) 
          (NP (DT a) (JJ nonexecutive) (NN director) ))))
    (. .) ))
( (S 
    (NP-SBJ (NNP Mr.) (NNP Vinken) )
    (VP (VBZ is) 
      (NP-PRD 
        (NP (NN chairman) )
        (PP (IN of) (NP (-LRB- -LRB-) (NNP Elsevier) (-RRB- -RRB-) ))))
    (. .) ))
"""


def test_mrg_reader_and_ptb_cleanup():
  raw = trees.read_trees(MRG)
  assert len(raw) == 2
  assert raw[0].label == "" and raw[0].children[0].label == "S"
  first, second = [trees.normalize_ptb(t) for t in raw]
  assert first.to_string() == (
      "(S (NP Pierre Vinken) (VP will (VP join (NP the board) "
      "(S (VP to (VP leave))) (PP as (NP a nonexecutive director)))) .)")
  assert trees.sentence(second) == "Mr. Vinken is chairman of ( Elsevier ) ."
  assert trees.linearize(second, None).endswith(
      "(PP of (NP -LRB- Elsevier -RRB- ) ) ) ) . )")


def test_base_label():
  assert trees.base_label("NP-SBJ-1") == "NP"
  assert trees.base_label("NP=2") == "NP"
  assert trees.base_label("PRT|ADVP") == "PRT"
  assert trees.base_label("-NONE-") == "-NONE-"
  assert trees.base_label("S") == "S"


def test_normalize_drops_trace_only_trees():
  assert trees.normalize_ptb(trees.parse("( (S (-NONE- *T*)) )")) is None


def test_escape_round_trip():
  for word in ["(", ")", "{", "}"]:
    assert trees.unescape_word(trees.escape_word(word)) == word
  assert trees.escape_word("f(x)") == "f-LRB-x-RRB-"


@pytest.mark.parametrize("text,expected", [
    # Missing closing brackets are added.
    ("(S (NP XX XX ) (VP XX", "(S (NP XX XX) (VP XX))"),
    # An unmatched ")" is dropped.
    (") (S (NP XX ) ) )", "(S (NP XX))"),
    # A ")" closing the root early is dropped: the rest stays inside.
    ("(S (NP XX ) ) (VP XX )", "(S (NP XX) (VP XX))"),
    # A "(" without a label is dropped.
    ("(S ( (NP XX ) XX )", "(S (NP XX) XX)"),
    # Words before the first bracket join the root.
    ("XX (S XX )", "(S XX XX)"),
    # Constituents without words are dropped.
    ("(S (NP ) XX (VP (PP ) ) )", "(S XX)"),
])
def test_repair(text, expected):
  tree, repaired = trees.repair(text)
  assert repaired
  assert tree.to_string() == expected
  with pytest.raises(trees.MalformedTree):
    trees.rebuild(text)


@pytest.mark.parametrize("text", ["", "XX XX", ") (", "(S )", "((("])
def test_unrepairable_is_none(text):
  assert trees.repair(text) == (None, True)


def test_tokens_need_no_spaces():
  assert trees.rebuild("(S(NP XX)(VP XX))") == trees.rebuild(
      "(S (NP XX ) (VP XX ) )")


def test_vocab_symbols_make_one_piece_per_tree_token():
  import sentencepiece as spm
  prose = ["The package provides a library for parsing files.",
           "It also includes tools and documentation for developers."] * 50
  buf = io.BytesIO()
  spm.SentencePieceTrainer.train(
      sentence_iterator=iter(prose), model_writer=buf, vocab_size=120,
      model_type="unigram", hard_vocab_limit=False, minloglevel=2,
      user_defined_symbols=trees.vocab_symbols())
  sp = spm.SentencePieceProcessor(model_proto=buf.getvalue())
  text = "(S (NP XX XX ) (VP XX (SBAR (WHNP XX ) ) ) . )"
  pieces = sp.encode(text, out_type=str)
  # Every bracket, label and placeholder is one piece ("." is prose's).
  assert [p for p in pieces if p.strip("\u2581.")] == [
      "\u2581" + t for t in text.split() if t != "."]
  assert sp.decode(sp.encode(text)) == text
