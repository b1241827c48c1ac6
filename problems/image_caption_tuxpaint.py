"""Tux Paint stamps: about 950 real photos and drawings with captions.

Debian's tuxpaint-stamps-default keeps each stamp as
`/usr/share/tuxpaint/stamps/<category>/.../<stem>.png` or `<stem>.svg`, with
`<stem>.txt` beside it: the English caption on the first line, translations
on lines `de.utf8=...`, `fr.utf8=...` (and other languages). A stamp with
both a PNG and an SVG is one stamp (the PNG is used); images without a
caption file (the `_mirror` variants, a few Tux faces) are not used.

Images are stored as PNG, alpha composited on white, shrunk to at most
STORED_SIDE pixels; SVGs are rasterised at datagen with rsvg-convert.
Splits are by stamp group: stamps whose names differ only in digits,
punctuation or case ("Candy_cane_photo_1", "Candy_cane_photo_2"), or that
share an English caption, stay on one side, so no test image has a variant
in training.
"""
import hashlib
import os
import re
import shutil
import subprocess

from t2tlite import registry
from t2tlite import system_deps
from t2tlite.data import image_problems
from t2tlite.problems import ddtp

STAMPS_DIR = "/usr/share/tuxpaint/stamps"
STORED_SIDE = 96
DEV_PERCENT, TEST_PERCENT = 10, 10


def parse_caption_file(text):
  """Caption file text -> {"en": ..., "de": ..., ...} (only non-empty)."""
  lines = text.splitlines()
  captions = {}
  if lines and "=" not in lines[0].split(" ")[0]:
    captions["en"] = lines[0]
  for line in lines[1:]:
    m = re.match(r"([A-Za-z_@]+)\.utf8=(.*)", line)
    if m:
      captions[m.group(1)] = m.group(2)
  return {k: " ".join(v.split()) for k, v in captions.items()
          if v.strip()}


def find_stamps(root):
  """Sorted (image path, caption path) of every captioned stamp."""
  stamps = []
  for dirpath, dirnames, filenames in os.walk(root):
    dirnames.sort()
    names = set(filenames)
    for name in sorted(filenames):
      if not name.endswith(".txt"):
        continue
      stem = name[:-len(".txt")]
      for ext in (".png", ".svg"):  # the PNG when a stamp has both
        if stem + ext in names:
          stamps.append((os.path.join(dirpath, stem + ext),
                         os.path.join(dirpath, name)))
          break
  return stamps


def stem_key(path, root):
  """A stamp's name without digits, punctuation, case or `_mirror`."""
  stem = os.path.splitext(os.path.basename(path))[0].lower()
  stem = re.sub(r"_mirror$", "", stem)
  key = " ".join(re.sub(r"[^a-z]+", " ", stem).split())
  # Names that are all digits (euro/001.png) say nothing: use the folder.
  return key or os.path.relpath(os.path.dirname(path), root)


def split_groups(stamps, english, root):
  """Stamp index -> split; stamps sharing a name key or caption go together."""
  parent = list(range(len(stamps)))

  def find(i):
    while parent[i] != i:
      parent[i] = parent[parent[i]]
      i = parent[i]
    return i

  first = {}
  for i, (path, _) in enumerate(stamps):
    for key in ("name:" + stem_key(path, root),
                "caption:" + english[i].lower()):
      if key in first:
        parent[find(i)] = find(first[key])
      else:
        first[key] = i
  members = {}
  for i in range(len(stamps)):
    members.setdefault(find(i), []).append(i)
  split = {}
  for group in members.values():
    # Hash the group's smallest name, so that a stamp's side does not
    # depend on which other stamps a package version holds.
    name = min(os.path.relpath(stamps[i][0], root) for i in group)
    bucket = int(hashlib.md5(name.encode("utf-8")).hexdigest(), 16) % 100
    side = ("test" if bucket < TEST_PERCENT else
            "dev" if bucket < TEST_PERCENT + DEV_PERCENT else "train")
    for i in group:
      split[i] = side
  return split


def rasterize_svg(path, side):
  """SVG file -> PNG bytes fitting in side x side, on white."""
  if not shutil.which("rsvg-convert"):
    system_deps.ensure_debian_group("svg", "rasterising Tux Paint SVG stamps")
  proc = subprocess.run(["rsvg-convert", "-a", "-w", str(side), "-h",
                         str(side), "-b", "white", path],
                        capture_output=True, check=False)
  if proc.returncode != 0 or not proc.stdout:
    raise ValueError(f"rsvg-convert failed on {path}: "
                     f"{proc.stderr.decode(errors='replace').strip()[:200]}")
  return proc.stdout


def stored_png(path, side=STORED_SIDE):
  """A stamp's image as PNG bytes: RGB on white, longer side <= side."""
  from t2tlite.data import image_utils
  if path.endswith(".svg"):
    data = rasterize_svg(path, side)
  else:
    with open(path, "rb") as f:
      data = f.read()
  image = image_utils.read_image(data, 3, image_utils.WHITE)
  return image_utils.encode(image_utils.fit_within(image, side).numpy())


@registry.register_problem
class ImageCaptionTuxpaint(image_problems.ImageCaptionProblem):
  """Caption a Tux Paint stamp in English."""

  vocab_name = ddtp.SHARED_VOCAB

  caption_lang = "en"
  task_token = "to_caption_en"
  stamps_dir = STAMPS_DIR
  image_size = 64
  channels = 3
  resize_mode = "pad"
  background = 255
  augment_pad = 4
  num_shards = {"train": 1, "dev": 1, "test": 1}
  max_decode_length = 48

  def stamps(self):
    """[(image path, captions dict, split)] of every captioned stamp."""
    root = self.stamps_dir
    if root == STAMPS_DIR and not os.path.isdir(root):
      system_deps.ensure_debian_group("tuxpaint_stamps", self.name)
    found = find_stamps(root)
    if not found:
      raise FileNotFoundError(f"no captioned stamps under {root}")
    captions = []
    for _, txt in found:
      with open(txt, encoding="utf-8", errors="replace") as f:
        captions.append(parse_caption_file(f.read()))
    english = [c.get("en", "") for c in captions]
    splits = split_groups(found, english, root)
    return [(path, captions[i], splits[i])
            for i, (path, _) in enumerate(found)]

  def cached_png(self, path, tmp_dir):
    """Rasterised/shrunk once into tmp_dir, shared by the three languages."""
    rel = os.path.relpath(path, self.stamps_dir)
    cache = os.path.join(tmp_dir, f"tuxpaint_stamps_{STORED_SIDE}",
                         rel + ".png")
    if os.path.exists(cache):
      with open(cache, "rb") as f:
        return f.read()
    data = stored_png(path)
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    with open(cache + ".tmp", "wb") as f:
      f.write(data)
    os.replace(cache + ".tmp", cache)
    return data

  def images(self, tmp_dir, split):
    for path, captions, side in self.stamps():
      caption = captions.get(self.caption_lang)
      if side == split and caption:
        yield self.cached_png(path, tmp_dir), caption


@registry.register_problem
class ImageCaptionTuxpaintDe(ImageCaptionTuxpaint):
  """Caption a Tux Paint stamp in German."""

  caption_lang = "de"
  task_token = "to_caption_de"


@registry.register_problem
class ImageCaptionTuxpaintFr(ImageCaptionTuxpaint):
  """Caption a Tux Paint stamp in French."""

  caption_lang = "fr"
  task_token = "to_caption_fr"
