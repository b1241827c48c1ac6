#!/bin/bash
# The main job's set trained jointly on one core, then the first 200 dev
# examples of each problem decoded (beam 2). Runs A, B (MIX and STEPS as
# below) and C (MIX, STEPS given) of ../main_job_mixing.md.
# Run from a checkout of f95bc17 with its virtualenv active; DATA: a
# data_dir of the six embedded problems. Usage: ab_mixing.sh NAME CORE HPARAMS
D=${DATA:?}
NAME=$1; CORE=$2; H=$3
MIX="${MIX:-weights:translate_ende_ddtp=0.55,image_fashion_mnist=0.15,speech_tts_en_chars=0.15,parsing_english_silver=0.11,image_caption_tuxpaint=0.04}"
STEPS="${STEPS:-2750}"
J=translate_ende_ddtp-image_fashion_mnist-speech_tts_en_chars-parsing_english_silver-image_caption_tuxpaint
OUT=${WORK:-.}/$NAME
taskset -c $CORE t2tlite-trainer --problems=$J --model=multimodel --hparams_set=multimodel_chars --hparams="$H" --mixing="$MIX" --data_dir=$D --output_dir=$OUT --train_steps=$STEPS --eval_every=$STEPS --eval_steps=5 --log_every=250
for p in translate_ende_ddtp image_fashion_mnist speech_tts_en_chars parsing_english_silver image_caption_tuxpaint; do
  taskset -c $CORE t2tlite-decoder --problem=$p --output_dir=$OUT --decode_split=dev --decode_limit=200 --decode_hparams=beam_size=2,batch_size=64 --decode_to_file=$OUT/dev_$p.txt 2>&1 | grep -iE "bleu|wer|accuracy|f1|distinct" | tail -3
done
