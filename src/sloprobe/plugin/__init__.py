"""The pytest plugin (entry point: sloprobe.plugin.hooks).

The orchestrator of a run: probes measure, the judge judges, sinks and notifiers publish,
this package calls each in turn. It may import every layer below it but never the CLI.
"""
