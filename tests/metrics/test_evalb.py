"""Bracket scoring on hand-made pairs whose scores are worked out by hand."""
import pytest

from t2tlite.metrics import evalb
from t2tlite.data import trees

REF = "(S (NP XX XX ) (VP XX (NP XX XX ) ) . )"  # S NP VP NP: 4 brackets.


def test_brackets_are_spans_over_words_without_punctuation():
  got = evalb.brackets(trees.rebuild(REF))
  assert got == {("S", 0, 5): 1, ("NP", 0, 2): 1, ("VP", 2, 5): 1,
                 ("NP", 3, 5): 1}


def test_perfect():
  out = evalb.score([REF], [REF])
  assert out["labelled_f1"] == out["unlabelled_f1"] == 100.0
  assert out["exact_match"] == 100.0
  assert out["malformed"] == out["length_mismatch"] == 0


def test_missing_bracket():
  # 3 of 4 gold brackets found, none wrong: P = 100, R = 75, F1 = 6/7.
  out = evalb.score(["(S (NP XX XX ) (VP XX XX XX ) . )"], [REF])
  assert out["labelled_precision"] == 100.0
  assert out["labelled_recall"] == 75.0
  assert out["labelled_f1"] == 85.71
  assert out["exact_match"] == 0.0


def test_wrong_label_counts_only_when_labelled():
  out = evalb.score(["(S (NP XX XX ) (VP XX (PP XX XX ) ) . )"], [REF])
  assert out["labelled_f1"] == 75.0
  assert out["unlabelled_f1"] == 100.0


def test_advp_equals_prt():
  out = evalb.score(["(S (NP XX ) (VP XX (ADVP XX ) ) )"],
                    ["(S (NP XX ) (VP XX (PRT XX ) ) )"])
  assert out["labelled_f1"] == 100.0


def test_punctuation_attachment_is_not_scored():
  hyp = "(S (NP XX XX ) (VP XX (NP XX XX ) . ) )"
  out = evalb.score([hyp], [REF])
  assert out["labelled_f1"] == 100.0 and out["exact_match"] == 100.0


def test_unary_chains_count_twice():
  # Gold: S, NP, NP, VP; the hypothesis finds one NP: P = 100, R = 75.
  out = evalb.score(["(S (NP XX ) (VP XX ) )"],
                    ["(S (NP (NP XX ) ) (VP XX ) )"])
  assert out["labelled_precision"] == 100.0
  assert out["labelled_recall"] == 75.0


def test_micro_average_and_empty_output():
  # 4 of 4 on the first sentence, nothing on the second (empty output):
  # matched 4, hypothesis 4, gold 8 -> P = 100, R = 50, F1 = 66.67.
  out = evalb.score([REF, ""], [REF, REF])
  assert out["labelled_precision"] == 100.0
  assert out["labelled_recall"] == 50.0
  assert out["labelled_f1"] == 66.67
  assert out["malformed"] == 1
  assert out["exact_match"] == 50.0
  assert out["sentences"] == 2


def test_malformed_output_is_repaired_and_counted():
  out = evalb.score(["(S (NP XX XX ) (VP XX (NP XX XX ) ) ."], [REF])
  assert out["labelled_f1"] == 100.0
  assert out["malformed"] == 1
  assert out["exact_match"] == 0.0  # A repaired tree is no exact match.


def test_length_mismatch_is_scored_not_skipped():
  out = evalb.score(["(S (NP XX XX ) (VP XX (NP XX ) ) )"],
                    ["(S (NP XX ) (VP XX (NP XX ) ) )"])
  assert out["length_mismatch"] == 1
  assert out["labelled_f1"] == 0.0


def test_reference_punctuation_decides_on_equal_length():
  # The hypothesis writes XX where the reference has "."; with as many
  # words, the reference says position 4 is punctuation, so it is deleted.
  out = evalb.score(["(S (NP XX XX ) (VP XX (NP XX XX ) ) XX )"], [REF])
  assert out["labelled_f1"] == 100.0


def test_pos_preterminals_are_not_brackets():
  tagged = trees.rebuild("(S (NP (DT XX ) (NN XX ) ) (VP (VBZ XX ) ) )")
  assert sum(evalb.brackets(tagged, pos_tags=True).values()) == 3
  assert sum(evalb.brackets(tagged, pos_tags=False).values()) == 6


def test_bad_reference_and_lengths():
  with pytest.raises(ValueError):
    evalb.score(["(S XX )"], ["(S XX"])
  with pytest.raises(ValueError):
    evalb.score(["(S XX )"], [])
