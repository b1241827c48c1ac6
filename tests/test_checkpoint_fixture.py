"""A checkpoint written by this code in 2026-12 keeps loading.

tests/fixtures/run_2026_12_multimodel_tiny is a tiny multimodel_tiny run on
the example zen_reverse problem (40 steps: its outputs are poor, but they
are exact), committed with the outputs it decoded when it was written.
Renaming or refactoring a layer class must not break it; a change that
does needs a key mapping in model.variable_map. The `legacy/` checkpoint
holds the same weights under the keys used before 2026-12 (with class
names), as older runs have them.
"""
import json
import os
import shutil

import pytest

import usr_dir_example  # noqa: F401  (registers zen_reverse)
from conftest import TESTS

FIXTURE = os.path.join(TESTS, "fixtures", "run_2026_12_multimodel_tiny")


@pytest.fixture
def run(tmp_path):
  out = str(tmp_path / "run")
  shutil.copytree(FIXTURE, out)
  with open(os.path.join(out, "inputs.txt")) as f:
    lines = f.read().splitlines()
  with open(os.path.join(out, "expected_beam2.json")) as f:
    expected = json.load(f)
  return out, lines, expected


def _decode(out, lines, checkpoint=None):
  from t2tlite.decode import decoder
  dec = decoder.Decoder(out, decode_hparams_text="beam_size=2",
                        checkpoint=checkpoint)
  return dec.decode_lines("zen_reverse", lines)


def test_committed_checkpoint_decodes_as_when_it_was_written(run):
  out, lines, expected = run
  assert _decode(out, lines) == expected


def test_renamed_layer_classes_still_load(run):
  from t2tlite.layers import common
  from t2tlite.modalities import text
  out, lines, expected = run
  classes = (text.TextModality, common.Dense)
  names = [c.__name__ for c in classes]
  try:
    for c in classes:
      c.__name__ = "Renamed" + c.__name__
    assert _decode(out, lines) == expected
  finally:
    for c, name in zip(classes, names):
      c.__name__ = name


def test_legacy_keyed_checkpoint_loads_to_the_same_outputs(run):
  out, lines, expected = run
  legacy = os.path.join(out, "legacy", "ckpt-40")
  assert _decode(out, lines, checkpoint=legacy) == expected
