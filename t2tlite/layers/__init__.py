"""Layers shared by the models: attention, timing signal, feed-forward."""
