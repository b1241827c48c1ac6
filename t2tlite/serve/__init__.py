"""Serving a trained run: api (t2tlite.load), export (a SavedModel of the
decoder's search and the inputs' graph ops in export_ops) and serving (an
HTTP server over a run or an export).
"""
