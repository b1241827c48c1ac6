"""Data: what a problem is and how its examples are made, stored and read.

problem (the Problem base and its spec), the families' bases (text_problem,
image_problems, speech_problems), vocab (subword and byte vocabularies),
data_io (TFRecord shards), datagen, and the raw-value helpers audio,
image_utils and trees. Nothing here knows a model.
"""
