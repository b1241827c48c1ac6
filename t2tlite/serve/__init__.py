"""Serving a trained run: api (t2tlite.load), export (a SavedModel of the
decoder's search and the codecs' graph forms, t2tlite/data/codecs) and
serving (an HTTP server over a run or an export).
"""
