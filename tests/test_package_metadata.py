"""The installed package says what it is: license, readme, URLs, pins."""
import importlib.metadata
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _meta():
  return importlib.metadata.metadata("t2tlite")


def test_license_file_and_field():
  assert (ROOT / "LICENSE").read_text().lstrip().startswith(
      "Apache License")
  meta = _meta()
  assert "Apache-2.0" in (meta.get("License-Expression") or
                          meta.get("License") or "")


def test_readme_urls_and_classifiers():
  meta = _meta()
  first = (ROOT / "README.md").read_text().splitlines()[0]
  assert first in meta.get_payload() or first in (meta["Description"] or "")
  assert meta["Description-Content-Type"] == "text/markdown"
  urls = meta.get_all("Project-URL")
  assert any("arxiv.org/abs/1706.05137" in u for u in urls), urls
  assert any(c.startswith("Programming Language :: Python")
             for c in meta.get_all("Classifier"))


def test_tensorflow_and_tensorflow_text_pin_one_minor():
  reqs = _meta().get_all("Requires-Dist")
  def spec(name):
    found = [r for r in reqs if re.match(rf"{name}\s*[<>=!~]", r)]
    assert found, (name, reqs)
    return sorted(re.findall(r"[<>=!~]+[\d.]+", found[0].split(";")[0]))
  tf_spec = spec("tensorflow")
  assert tf_spec == spec("tensorflow-text")
  import tensorflow as tf
  lo = [s for s in tf_spec if s.startswith(">=")][0][2:]
  # The installed TensorFlow is the pinned minor.
  assert tf.__version__.startswith(lo + "."), (tf.__version__, lo)
