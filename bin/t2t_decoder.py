"""t2tlite-decoder: decodes lines (text, image paths, audio paths) with a
trained model, loaded once; exactly one output line per input line."""
import os
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-decoder"
FV = cli.new_flags()
flags.DEFINE_string("output_dir", None, "The trained run.", flag_values=FV)
flags.DEFINE_string("problem", None, "Which of its problems to decode (with "
                    "--decode_split: several joined by ',', or 'all').",
                    flag_values=FV)
flags.DEFINE_string("data_dir", None, "Data (default: the run's).",
                    flag_values=FV)
flags.DEFINE_string("decode_hparams", "", "e.g. beam_size=4,alpha=0.6,"
                    "batch_size=32,top_k=5.", flag_values=FV)
flags.DEFINE_string("decode_from_file", None, "Input, one item per line "
                    "(default: stdin).", flag_values=FV)
flags.DEFINE_string("decode_to_file", None, "Output (default: stdout).",
                    flag_values=FV)
flags.DEFINE_string("reference", None, "Reference lines to score the output "
                    "against with the problem's metrics.", flag_values=FV)
flags.DEFINE_string("decode_split", None, "Instead of a file: decode this "
                    "split of the problem's data (e.g. test) and print its "
                    "metrics.", flag_values=FV)
flags.DEFINE_integer("decode_limit", 0, "With --decode_split: at most this "
                     "many examples (0: all).", flag_values=FV)
flags.DEFINE_integer("show_examples", 3, "With --decode_split: examples "
                     "printed beside the metrics.", flag_values=FV)
flags.DEFINE_string("checkpoint", None, "A checkpoint other than the latest.",
                    flag_values=FV)


def read_lines(path, report):
  """Lines of a file (or stdin) as text; a line that is not UTF-8 is
  reported and decoded as empty, so the output stays aligned."""
  if path is None:
    data = sys.stdin.buffer.read()
  else:
    if not os.path.isfile(path):
      raise FileNotFoundError(f"decode file {path} does not exist")
    with open(path, "rb") as f:
      data = f.read()
  raw = data.split(b"\n")
  if raw and raw[-1] == b"":
    raw.pop()
  lines = []
  for n, b in enumerate(raw):
    try:
      lines.append(b.rstrip(b"\r").decode("utf-8"))
    except UnicodeDecodeError:
      report(f"line {n + 1}: not UTF-8; its output line is left empty")
      lines.append("")
  return lines


def write_lines(path, lines):
  text = "".join(l.replace("\n", " ") + "\n" for l in lines)
  if path is None:
    sys.stdout.write(text)
    return
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    f.write(text)
  os.replace(tmp, path)


def main(fv):
  from t2tlite import decoder
  cli.require(PROG, fv, "output_dir", "problem")
  report = lambda msg: print(f"{PROG}: {msg}", file=sys.stderr)
  dec = decoder.Decoder(fv.output_dir, fv.data_dir, fv.decode_hparams,
                        checkpoint=fv.checkpoint)
  if fv.decode_split:
    if fv.decode_from_file or fv.reference:
      cli.fail(PROG, "--decode_split replaces --decode_from_file/--reference")
    names = list(dec.problems) if fv.problem == "all" else (
        fv.problem.split(","))
    if len(names) > 1 and fv.decode_to_file:
      cli.fail(PROG, "--decode_to_file takes one problem")
    table = []
    for name in names:
      dec.problem(name)
      scores, hyps, refs = dec.evaluate(name, fv.decode_split,
                                        fv.decode_limit or None)
      if fv.decode_to_file:
        write_lines(fv.decode_to_file, hyps)
      print(f"== {name}: {len(hyps)} {fv.decode_split} examples")
      for h, r in list(zip(hyps, refs))[:fv.show_examples]:
        print(f"  reference: {r}\n  output:    {h}")
      table.append((name, len(hyps), scores))
    print(f"\n| problem | {fv.decode_split} examples | metrics |\n|---|---|---|")
    for name, n, scores in table:
      print(f"| {name} | {n} | " +
            ", ".join(f"{k} {v}" for k, v in scores.items()) + " |")
    return
  problem = dec.problem(fv.problem)
  if fv.decode_from_file is None and not fv.reference:
    # Interactive: each line of stdin is answered as soon as it arrives.
    for n, raw in enumerate(sys.stdin.buffer):
      try:
        line = raw.rstrip(b"\r\n").decode("utf-8")
      except UnicodeDecodeError:
        report(f"line {n + 1}: not UTF-8; its output line is left empty")
        line = ""
      out = dec.decode_lines(fv.problem, [line], report=report)[0]
      sys.stdout.write(out.replace("\n", " ") + "\n")
      sys.stdout.flush()
    return
  lines = read_lines(fv.decode_from_file, report)
  outputs = dec.decode_lines(fv.problem, lines, report=report)
  assert len(outputs) == len(lines)
  write_lines(fv.decode_to_file, outputs)
  if fv.reference:
    refs = read_lines(fv.reference, report)
    if len(refs) != len(outputs):
      cli.fail(PROG, f"--reference has {len(refs)} lines, the input "
               f"{len(outputs)}")
    scores = problem.score(outputs, refs)
    print(" ".join(f"{k}={v}" for k, v in scores.items()))


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
