"""Every Debian package t2tlite's problems, tests and scripts use: the one
list, by named group, each package stated once.

Problems install their group at datagen
(`system_deps.ensure_debian_group(group, why)`); scripts/debian_deps.sh
installs a whole setup up front, asking this file for the names:

  python3 t2tlite/debian_packages.py test|main|GROUP...

prints the packages of the setups or groups named, space-separated, on one
line. Run as a file it imports nothing (neither TensorFlow nor the rest of
t2tlite), so any Python 3 can answer before or after the venv exists.
"""
import sys

# group -> the Debian packages it installs.
GROUPS = {
    # speech_tts_en (and its twins): the two TTS engines that speak it.
    "tts": ("espeak-ng", "flite"),
    # parsing_english_silver: the parser, its English dictionary and the
    # Python bindings t2tlite loads (problems/link_grammar.py).
    "link_grammar": ("link-grammar", "link-grammar-dictionaries-en",
                     "python3-link-grammar"),
    # image_caption_tuxpaint: rsvg-convert, to rasterise the SVG stamps.
    "svg": ("librsvg2-bin",),
    # image_caption_tuxpaint: the stamps and their captions.
    "tuxpaint_stamps": ("tuxpaint-stamps-default",),
    # image_fashion_mnist: the complete data set as IDX files.
    "fashion_mnist": ("dataset-fashion-mnist",),
    # scripts/speech_librivox.sh: five read LibriVox clips.
    "librivox": ("pocketsphinx-testdata",),
}

# setup -> the groups scripts/debian_deps.sh installs for it: "test" for
# scripts/test.sh, "main" for the main job, the quality run and the
# experiments.
SETUPS = {
    "test": ("tts", "link_grammar", "svg", "fashion_mnist",
             "tuxpaint_stamps"),
    "main": ("tts", "link_grammar", "svg", "fashion_mnist",
             "tuxpaint_stamps", "librivox"),
}


def packages(*names):
  """The packages of the setups or groups named, in order, each once."""
  out = []
  for name in names:
    if name in SETUPS:
      groups = SETUPS[name]
    elif name in GROUPS:
      groups = (name,)
    else:
      raise KeyError(f"no Debian package setup or group {name!r}; setups: "
                     f"{', '.join(SETUPS)}; groups: {', '.join(GROUPS)}")
    for group in groups:
      out.extend(p for p in GROUPS[group] if p not in out)
  return out


def main(argv):
  if len(argv) < 2:
    print(f"usage: python3 {argv[0]} {'|'.join(SETUPS)}|GROUP...",
          file=sys.stderr)
    return 2
  try:
    print(" ".join(packages(*argv[1:])))
  except KeyError as e:
    print(f"debian_packages: {e.args[0]}", file=sys.stderr)
    return 2
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv))
