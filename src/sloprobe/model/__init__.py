"""The model: what a run produced, as plain data every other layer shares.

Measurements (what probes saw), verdicts (how each SLO stands), the history
view (budgets, burn rates, incidents) and the RunResult that carries them.
Nothing here does I/O or judges; ``sloprobe.judge`` computes, sinks show.

It must not import anything of sloprobe above it, nor any I/O library (an import-linter
contract).
"""
