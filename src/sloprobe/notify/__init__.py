"""Notifiers: Sentry, Slack, PagerDuty and webhooks speak on incident transitions, each a
``Sender`` (:mod:`.deliver`), with delivery recorded in history.

Beside sinks and history in one layer: it must not import them (history comes in as
an object the plugin hands over), the plugin, the CLI or the judge (import-linter contracts).
"""
