"""Which channels speak of which SLO: every configured one, unless ``settings.routes`` says otherwise.

``routes`` maps an SLO's ``owner`` (or ``*``, any owner no route names, and
SLOs without one) to channel names: ``sentry``, ``slack``, ``pagerduty`` or a
webhook's. An SLO whose owner has a route goes to those channels only; the
rest follow ``*``; without ``*`` they go to every configured channel, as
without routes. A channel that is not configured in this run is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from sloprobe.notify.plan import ChannelPolicy

if TYPE_CHECKING:
    from sloprobe.config.model import Settings

ANY_OWNER = "*"


def channel_policies(
    settings: Settings,
    *,
    sentry: bool,
    slack: bool,
    pagerduty: bool = False,
    webhooks: Iterable[str] = (),
) -> dict[str, ChannelPolicy]:
    """A policy for each channel that can speak in this run, routing included."""
    policies = {}
    if sentry and settings.sentry.incidents == "events":  # monitors: check-ins, not events
        policies["sentry"] = ChannelPolicy(settings.sentry.recovery, settings.sentry.reminder_every)
    if slack:
        policies["slack"] = ChannelPolicy(settings.slack.recovery, None)
    if pagerduty:
        policies["pagerduty"] = ChannelPolicy(recovery=True)  # PagerDuty re-notifies by itself
    for name in webhooks:
        hook = settings.webhooks[name]
        policies[name] = ChannelPolicy(
            recovery="resolved" in hook.transitions,
            reminder_every_s=hook.reminder_every if "reminder" in hook.transitions else None,
            opened="opened" in hook.transitions,
        )
    return routed(policies, settings.routes)


def routed(
    policies: dict[str, ChannelPolicy], routes: dict[str, list[str]]
) -> dict[str, ChannelPolicy]:
    if not routes:
        return policies
    named = frozenset(owner for owner in routes if owner != ANY_OWNER)
    fallback = routes.get(ANY_OWNER)
    return {
        channel: replace(
            policy,
            owners=frozenset(o for o in named if channel in routes[o]),
            routed=named,
            default=fallback is None or channel in fallback,
        )
        for channel, policy in policies.items()
    }


def unknown_owners(routes: dict[str, list[str]], owners: Iterable[str | None]) -> list[str]:
    """Owners a route names that no SLO has: a typo there sends that team's incidents elsewhere."""
    known = {o for o in owners if o}
    return sorted(o for o in routes if o != ANY_OWNER and o not in known)
