import pytest
from hypothesis import given, strategies as st

from t2tlite.hparams_lib import HParams, HParamsError

BASE = HParams(hidden_size=32, dropout=0.1, use_moe=True, name="x")


def test_override_parses_typed_values():
  hp = BASE.override("hidden_size=64, dropout=0.3,use_moe=false,name=y")
  assert (hp.hidden_size, hp.dropout, hp.use_moe, hp.name) == (64, 0.3,
                                                               False, "y")
  assert BASE.hidden_size == 32  # the original never changes


def test_unknown_key_names_nearest():
  with pytest.raises(HParamsError, match="did you mean 'hidden_size'"):
    BASE.override("hiden_size=3")


@pytest.mark.parametrize("text,match", [
    ("hidden_size=3.5", "takes a int"), ("use_moe=maybe", "takes a bool"),
    ("hidden_size", "expected key=value"), ("=3", "empty key"),
    ("dropout=0.1,dropout=0.2", "given twice")])
def test_bad_overrides_are_errors(text, match):
  with pytest.raises(HParamsError, match=match):
    BASE.override(text)


def test_immutable_and_replace_checks_types():
  with pytest.raises(HParamsError):
    BASE.hidden_size = 3
  with pytest.raises(HParamsError):
    BASE.replace(hidden_size="big")
  assert BASE.replace(dropout=1).dropout == 1.0  # int widens to float


def test_json_round_trip():
  assert HParams.from_json(BASE.to_json()) == BASE


@given(st.text(max_size=40))
def test_parser_never_crashes_on_random_text(text):
  try:
    BASE.parse(text)
  except HParamsError:
    pass


@given(st.integers(-10**9, 10**9), st.floats(allow_nan=False,
                                              allow_infinity=False))
def test_parser_round_trips_numbers(i, f):
  hp = BASE.override(f"hidden_size={i},dropout={f!r}")
  assert hp.hidden_size == i and hp.dropout == f
