#!/bin/bash
# speech alone, multimodel_chars, 1,500 steps, with and without SpecAugment; dev (unseen voices) and LibriVox
# run from a checkout of f95bc17 with its virtualenv active; DATA: a data_dir with speech_tts_en; ROOT: the checkout
D=${DATA:?}

NAME=$1; CORE=$2; H=$3
OUT=${WORK:-.}/$NAME
taskset -c $CORE t2tlite-trainer --problems=speech_tts_en_chars --model=multimodel --hparams_set=multimodel_chars --hparams="$H" --data_dir=$D --output_dir=$OUT --train_steps=1500 --eval_every=1500 --eval_steps=10 --log_every=250
taskset -c $CORE t2tlite-decoder --problem=speech_tts_en_chars --output_dir=$OUT --decode_split=dev --decode_limit=200 --decode_hparams=beam_size=2,batch_size=64 --decode_to_file=$OUT/dev_speech.txt 2>&1 | grep "^|" | tail -1
taskset -c $CORE python ${ROOT:?}/scripts/speech_librivox.py $OUT --problem speech_tts_en_chars --decode_hparams beam_size=4 2>&1 | tail -4
