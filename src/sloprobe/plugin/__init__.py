"""The pytest plugin (entry point: sloprobe.plugin.hooks)."""
