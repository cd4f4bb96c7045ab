"""Notifiers: Sentry and Slack speak on incident transitions, with delivery recorded in history."""
