#!/usr/bin/env bash
# The main job: one MultiModel learns every embedded real problem at once.
#   translation en<->de and en<->fr (Debian DDTP), Fashion-MNIST, speech
#   recognition of unseen TTS voices, silver constituency parsing, and
#   Tux Paint image captioning.
# Datagen for all of them, a joint training run of about 15 minutes on
# 2 CPU cores, then each problem's test metric and decoded examples.
# Environment: WORK (default ./t2t_work), STEPS, HPARAMS_SET, TEST_LIMIT.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC1091
source "$ROOT/scripts/setup_env.sh"
bash "$ROOT/scripts/debian_deps.sh" main
WORK="${WORK:-$ROOT/t2t_work}"
STEPS="${STEPS:-2400}"
HPARAMS_SET="${HPARAMS_SET:-multimodel_small}"
TEST_LIMIT="${TEST_LIMIT:-300}"
OUT="$WORK/joint_$HPARAMS_SET"
BASE="translate_ende_ddtp,translate_enfr_ddtp,image_fashion_mnist"
BASE="$BASE,speech_tts_en,parsing_english_silver,image_caption_tuxpaint"
JOINT="translate_ende_ddtp-translate_ende_ddtp_rev-translate_enfr_ddtp"
JOINT="$JOINT-translate_enfr_ddtp_rev-image_fashion_mnist-speech_tts_en"
JOINT="$JOINT-parsing_english_silver-image_caption_tuxpaint"
mkdir -p "$WORK"
echo "== datagen" >&2
time t2tlite-datagen --problem="$BASE" --data_dir="$WORK/data" \
  --tmp_dir="$WORK/tmp"
echo "== joint training: $JOINT" >&2
time t2tlite-trainer --problems="$JOINT" --model=multimodel \
  --hparams_set="$HPARAMS_SET" --data_dir="$WORK/data" --output_dir="$OUT" \
  --train_steps="$STEPS" --eval_every=800 --eval_steps=5 --log_every=100
echo "== test metrics (first $TEST_LIMIT test examples per problem)" >&2
time t2tlite-decoder --output_dir="$OUT" --problem=all --decode_split=test \
  --decode_limit="$TEST_LIMIT" --show_examples=2 \
  --decode_hparams=beam_size=2,batch_size=64
