"""Registered problems (importing this registers them).

Optional dependencies are imported inside the problems that need them, so a
missing one never drops a problem from the registry: the problem says what
to install when it is used.
"""
