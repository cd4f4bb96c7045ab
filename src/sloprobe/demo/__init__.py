"""The embedded default: the reference job service and ``sloprobe demo`` (extra ``demo``).

The reference service is the target, a program of its own: nothing of sloprobe but
``sloprobe demo`` (the CLI) imports it, and it may read its own environment.
"""
