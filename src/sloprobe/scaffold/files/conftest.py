"""Fixtures of this probe suite (sloprobe provides `target` and `recorder`)."""
