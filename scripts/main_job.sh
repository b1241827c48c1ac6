#!/usr/bin/env bash
# The main job: one MultiModel learns translation, images, speech, parsing
# and captions at once, on real data that installs offline:
#   English->German translation (Debian DDTP), Fashion-MNIST, speech
#   recognition of unseen TTS voices, silver constituency parsing, and
#   Tux Paint image captioning.
# Datagen for all of them (about 4 minutes), a joint training run of about
# 20 minutes on 2 CPU cores, then each problem's test metric beside its
# target (scripts/main_job_report.py), written to $WORK/main_job.json.
# Environment: WORK (default ./t2t_work), STEPS, HPARAMS_SET, HPARAMS,
# JOINT (problems joined by '-'), MIXING, TEST_LIMIT, REPORT_JSON.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup_env.sh"
bash "$ROOT/scripts/debian_deps.sh" main
WORK="${WORK:-$ROOT/t2t_work}"
STEPS="${STEPS:-3800}"
# multimodel_chars (hparams/multimodel.py): the speech recipe of docs/learning
# (a CTC loss beside the attention decoder, an audio net that halves
# frequency three times with at least 8 filters per block, a 4x lower peak
# learning rate) for byte targets: speech_tts_en_chars is the speech problem
# (the same clips as speech_tts_en, transcripts as bytes), the first whose
# outputs follow the audio on dev (docs/learning).
HPARAMS_SET="${HPARAMS_SET:-multimodel_chars}"
# No random shifts and flips of images: at about 1,500 Fashion-MNIST steps
# they cost more than they give (dev: docs/learning/runs/fmnist_probes and
# docs/learning/main_job_mixing.md, run D).
HPARAMS="${HPARAMS:-image_augment=False}"
TEST_LIMIT="${TEST_LIMIT:-300}"
# One translation direction at about 1,550 steps, where its dev BLEU passes
# the target, and about 1,500 cheap image steps, where Fashion-MNIST's does:
# chosen on dev (docs/learning/main_job_mixing.md, runs A and D; A, 0.55 of
# 2,750 steps, gave Fashion-MNIST 446 steps and test accuracy 0.830).
MIXING="${MIXING:-weights:translate_ende_ddtp=0.408,image_fashion_mnist=0.395,speech_tts_en_chars=0.099,parsing_english_silver=0.069,image_caption_tuxpaint=0.031}"
OUT="$WORK/joint_$HPARAMS_SET"
JOINT="${JOINT:-translate_ende_ddtp-image_fashion_mnist-speech_tts_en_chars-parsing_english_silver-image_caption_tuxpaint}"
# Datagen of exactly the problems JOINT trains, in its order (a _rev or
# twin problem writes its base problem's files: speech_tts_en_chars those
# of speech_tts_en). No en->fr data: the job does not train on it (the
# shared vocabulary's French text comes from the DDTP cache under tmp).
BASE="$(echo "$JOINT" | tr - '\n' | sed 's/_rev$//' | awk '!seen[$0]++' \
  | paste -sd,)"
mkdir -p "$WORK"
echo "== datagen" >&2
t0=$(date +%s)
t2tlite-datagen --problem="$BASE" --data_dir="$WORK/data" \
  --tmp_dir="$WORK/tmp"
t1=$(date +%s)
echo "== joint training: $JOINT ($MIXING)" >&2
t2tlite-trainer --problems="$JOINT" --model=multimodel \
  --hparams_set="$HPARAMS_SET" --hparams="$HPARAMS" --mixing="$MIXING" \
  --data_dir="$WORK/data" --output_dir="$OUT" \
  --train_steps="$STEPS" --eval_every="$STEPS" --eval_steps=5 --log_every=100
t2=$(date +%s)
echo "== test metrics (first $TEST_LIMIT test examples per problem)" >&2
python "$ROOT/scripts/main_job_report.py" --output_dir="$OUT" \
  --limit="$TEST_LIMIT" --decode_hparams=beam_size=2,batch_size=64 \
  --datagen_s=$((t1 - t0)) --train_s=$((t2 - t1)) \
  --json="${REPORT_JSON:-$WORK/main_job.json}"
echo "== datagen $((t1 - t0)) s, training $((t2 - t1)) s, test decoding $(( $(date +%s) - t2 )) s" >&2
