"""``sloprobe discover URL``: propose a complete, commented ``slo.yaml`` from what a service says.

Sources (each optional, each reported as found / not found / refused): the
OpenAPI document (:mod:`.openapi`, :mod:`.jobs`), else well-known paths
(:mod:`.wellknown`); latency samples of a health endpoint; a Prometheus
exposition (:mod:`.prometheus_metrics`); Redis queues and Flower's workers
(:mod:`.queues`). Only GET requests, through the probes' network layer, at
most :data:`~.asker.MAX_REQUESTS` per source (:mod:`.asker`). docs/discover.md
is the user's guide.

It orchestrates like the CLI: it may use config, the probes' network layer and the
redactor, but nothing imports it except ``sloprobe.cli``; it never imports the plugin.
"""

from sloprobe.discover.run import DiscoverOptions, Discovery, discover

__all__ = ["DiscoverOptions", "Discovery", "discover"]
