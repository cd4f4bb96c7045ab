"""The building blocks of every slo.yaml model: the strict base model and the field types.

Below both ``config`` (the file) and ``probes`` (each kind's spec), so a kind's
spec and the file that holds it share them without importing each other.

It must not import config, probes, the judge or anything that does I/O.
"""
