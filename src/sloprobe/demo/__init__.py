"""The embedded default: the reference job service and ``sloprobe demo`` (extra ``demo``)."""
