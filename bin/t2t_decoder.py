"""t2tlite-decoder: decodes lines (text, image paths, audio paths) with a
trained model, loaded once; exactly one output line per input line.

Input comes from --decode_from_file or stdin: a file or a pipe is decoded
in length-sorted batches, a terminal line by line. --decode_split decodes a
split of the problem's data instead and prints its metrics."""
import os
import sys

from absl import flags

from t2tlite.bin import cli

PROG = "t2tlite-decoder"
# Lines decoded per decode_lines call (then written out, on stdout at once);
# sorting by length inside a chunk of this size batches as well as sorting
# the whole input.
CHUNK_LINES = 4096

FV = cli.new_flags()
flags.DEFINE_string("output_dir", None, "The trained run to decode with: "
                    "the --output_dir given to t2tlite-trainer (its "
                    "checkpoints and t2tlite_run.json).", flag_values=FV)
flags.DEFINE_string("problem", None, "Which of the run's problems to decode; "
                    "an alias of it works too (translate_ende for a run "
                    "trained on translate_ende_ddtp). With --decode_split: "
                    "several joined by ',', or 'all'.", flag_values=FV)
flags.DEFINE_string("data_dir", None, "Where datagen wrote the problem's "
                    "data, read by --decode_split (default: the directory "
                    "the run was trained on).", flag_values=FV)
flags.DEFINE_string("decode_hparams", "", "Search settings as key=value "
                    "joined by ',': beam_size (1 is greedy search), alpha "
                    "(the length penalty), batch_size, max_length and "
                    "extra_length (output length limits), top_k (for class "
                    "labels: print the k best with their scores), "
                    "return_beams (print every beam with its score: 'hyp "
                    "||| score ||| hyp ||| score', best first), sampling "
                    "(draw from the model instead of searching) with "
                    "temperature, sampling_top_k (0: every token), "
                    "num_samples and seed. Defaults: beam_size=4,alpha=0.6,"
                    "batch_size=32,top_k=1,temperature=1,num_samples=1,"
                    "seed=0.", flag_values=FV)
flags.DEFINE_string("decode_from_file", None, "Input file, one item per line "
                    "(text, or an image or audio path, as the problem "
                    "takes). Without it stdin is read: decoded in batches "
                    "when it is a file or a pipe, line by line when it is a "
                    "terminal.", flag_values=FV)
flags.DEFINE_string("decode_to_file", None, "Output file, one line per input "
                    "line in input order, written when decoding ends "
                    "(default: stdout).", flag_values=FV)
flags.DEFINE_string("reference", None, "A file of reference lines, one per "
                    "input line: the output is scored against it with the "
                    "problem's metrics (BLEU with its sacreBLEU signature), "
                    "printed after the output.", flag_values=FV)
flags.DEFINE_alias("decode_reference", "reference", flag_values=FV)
flags.DEFINE_string("decode_split", None, "Decode this split of the "
                    "problem's data (train, dev or test) instead of a file, "
                    "and print its metrics as a table.", flag_values=FV)
flags.DEFINE_integer("decode_limit", 0, "With --decode_split: decode only "
                     "the first N examples of the split; 0 decodes all of "
                     "it.", flag_values=FV)
flags.DEFINE_integer("show_examples", 3, "With --decode_split: how many "
                     "reference/output pairs to print for each problem "
                     "beside its metrics.", flag_values=FV)
flags.DEFINE_string("checkpoint", None, "Decode with this checkpoint (a "
                    "path such as OUTPUT_DIR/ckpt-400) instead of the newest "
                    "one in --output_dir.", flag_values=FV)
flags.DEFINE_alias("checkpoint_path", "checkpoint", flag_values=FV)
flags.DEFINE_integer("checkpoint_average", 0, "Decode with the mean of the "
                     "model variables of the run's last N checkpoints (the "
                     "N ending with --checkpoint if given); 0 or 1 decode "
                     "with one checkpoint. More than the run holds is an "
                     "error.", flag_values=FV)
flags.DEFINE_boolean("decode_interactive", False, "Answer each line of stdin "
                     "as soon as it arrives, even from a pipe (stdin from a "
                     "terminal always is).", flag_values=FV)
flags.DEFINE_float("progress_every", 10.0, "While decoding a split or a "
                   "file, log the lines done out of the total, the rate and "
                   "an ETA at most every this many seconds; 0 logs after "
                   "every batch, a negative value never.", flag_values=FV)


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


def _text(lines):
  return "".join(l.replace("\n", " ") + "\n" for l in lines)


def write_lines(path, lines):
  if path is None:
    sys.stdout.write(_text(lines))
    return
  tmp = path + ".tmp"
  with open(tmp, "w", encoding="utf-8") as f:
    f.write(_text(lines))
  os.replace(tmp, path)


def progress_decoder(decoder_lib):
  """decoder.Decoder that decodes one batch at a time and reports progress
  (the batches are the ones Decoder.decode_arrays would make: inputs
  sorted by length, batch_size at a time, so the outputs are the same)."""

  class ProgressDecoder(decoder_lib.Decoder):
    progress_every = 10.0
    progress = None  # a cli.Progress spanning several calls, or None
    what = "decoding"

    def decode_arrays(self, name, arrays, return_beams=None):
      base = lambda n, a: super(ProgressDecoder, self).decode_arrays(
          n, a, return_beams=return_beams)
      bs = max(1, self.dhp.batch_size)
      own = self.progress is None
      progress = self.progress or cli.Progress(
          self.what, len(arrays), self.progress_every, unit="examples")
      order = sorted(range(len(arrays)), key=lambda i: arrays[i].shape[0])
      outputs = [None] * len(arrays)
      for start in range(0, len(order), bs):
        idx = order[start:start + bs]
        for i, out in zip(idx, base(name, [arrays[i] for i in idx])):
          outputs[i] = out
        progress.update(len(idx))
      if own:
        progress.finish()
      return outputs

  return ProgressDecoder


def decode_batched(dec, name, lines, report, out_path, every):
  """Decodes lines CHUNK_LINES at a time with progress over all of them;
  stdout gets each chunk's output as soon as it is decoded."""
  progress = cli.Progress(f"decoding {name}", len(lines), every)
  dec.progress = progress
  outputs = []
  try:
    for start in range(0, len(lines), CHUNK_LINES):
      chunk = lines[start:start + CHUNK_LINES]
      out = dec.decode_lines(
          name, chunk,
          report=lambda m, s=start: report(_shift_line_number(m, s)))
      assert len(out) == len(chunk)
      outputs += out
      progress.update(0, done=len(outputs))
      if out_path is None:
        sys.stdout.write(_text(out))
        sys.stdout.flush()
  finally:
    dec.progress = None
  progress.finish()
  if out_path is not None:
    write_lines(out_path, outputs)
  return outputs


def _shift_line_number(message, offset):
  """'line 3: ...' of a chunk -> the line's number in the whole input."""
  if offset and message.startswith("line "):
    num, sep, rest = message[5:].partition(":")
    if sep and num.isdigit():
      return f"line {int(num) + offset}:{rest}"
  return message


def _stdin_is_terminal():
  try:
    return sys.stdin.isatty()
  except (AttributeError, ValueError):
    return False


def decode_split(dec, fv):
  if fv.decode_from_file or fv.reference:
    cli.fail(PROG, "--decode_split replaces --decode_from_file/--reference")
  names = list(dec.problems) if fv.problem == "all" else [
      cli.run_problem_name(dec.problems, n) for n in fv.problem.split(",")]
  if len(names) > 1 and fv.decode_to_file:
    cli.fail(PROG, "--decode_to_file takes one problem")
  table, signatures = [], {}
  for name in names:
    dec.problem(name)
    dec.what = f"decoding {name} {fv.decode_split}"
    scores, hyps, refs = dec.evaluate(name, fv.decode_split,
                                      fv.decode_limit or None)
    signature = cli.bleu_signature(scores, hyps, refs)
    if signature:
      signatures[name] = signature
    if fv.decode_to_file:
      write_lines(fv.decode_to_file, hyps)
    print(f"== {name}: {len(hyps)} {fv.decode_split} examples")
    for h, r in list(zip(hyps, refs))[:fv.show_examples]:
      print(f"  reference: {r}\n  output:    {h}")
    table.append((name, len(hyps), scores))
  print(f"\n| problem | {fv.decode_split} examples | metrics |\n|---|---|---|")
  for name, n, scores in table:
    print(f"| {name} | {n} | {cli.format_metrics(scores)} |")
  if signatures:
    print()
    for sig in sorted(set(signatures.values())):
      which = [n for n in names if signatures.get(n) == sig]
      print(f"BLEU ({', '.join(which)}): sacreBLEU signature {sig}")


def main(fv):
  from t2tlite.decode import decoder
  from t2tlite import metrics
  cli.require(PROG, fv, "output_dir", "problem")
  report = lambda msg: print(f"{PROG}: {msg}", file=sys.stderr)
  if fv.checkpoint_average < 0:
    cli.fail(PROG, f"--checkpoint_average={fv.checkpoint_average}: give a "
             "number of checkpoints (0: no averaging)")
  dec = progress_decoder(decoder)(fv.output_dir, fv.data_dir,
                                  fv.decode_hparams, checkpoint=fv.checkpoint,
                                  average=fv.checkpoint_average or None)
  dec.progress_every = fv.progress_every
  if fv.decode_split:
    return decode_split(dec, fv)
  name = cli.run_problem_name(dec.problems, fv.problem)
  problem = dec.problem(name)
  if fv.decode_from_file is None and not fv.reference and (
      fv.decode_interactive or _stdin_is_terminal()):
    # Interactive: each line of stdin is answered as soon as it arrives.
    for n, raw in enumerate(sys.stdin.buffer):
      try:
        line = raw.rstrip(b"\r\n").decode("utf-8")
      except UnicodeDecodeError:
        report(f"line {n + 1}: not UTF-8; its output line is left empty")
        line = ""
      out = dec.decode_lines(name, [line], report=report)[0]
      sys.stdout.write(out.replace("\n", " ") + "\n")
      sys.stdout.flush()
    return
  lines = read_lines(fv.decode_from_file, report)
  outputs = decode_batched(dec, name, lines, report, fv.decode_to_file,
                           fv.progress_every)
  if fv.reference:
    refs = read_lines(fv.reference, report)
    if len(refs) != len(outputs):
      cli.fail(PROG, f"--reference has {len(refs)} lines, the input "
               f"{len(outputs)}")
    if dec.dhp.return_beams and dec.model.target_modality(
        name).targets_are_sequence:  # n-best lines: score each one's best
      outputs = [(decoder.split_nbest(o) or [("", 0.0)])[0][0]
                 for o in outputs]
    scores = metrics.score(problem, outputs, refs)
    text = cli.format_metrics(scores, sep="=", joiner=" ")
    signature = cli.bleu_signature(scores, outputs, refs)
    if signature:
      text += f" sacrebleu_signature={signature}"
    print(text)


def run(argv=None):
  sys.exit(cli.run(PROG, FV, main, argv))


if __name__ == "__main__":
  run()
