"""Which catalog service (and so which channel) an alert belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ServiceRoute:
    name: str
    selector: Mapping[str, str]
    channel: str | None = None


@dataclass(frozen=True)
class Route:
    service: str | None
    channel: str


class Router:
    """Maps alert labels to a service: its `service` label first, then the service's selector
    labels (all must match), else no service and the default channel."""

    def __init__(self, services: list[ServiceRoute], default_channel: str) -> None:
        self._by_name = {service.name: service for service in services}
        # Most specific selector first, so {job: api, env: prod} wins over {job: api}.
        self._by_selector = sorted(
            (s for s in services if s.selector), key=lambda s: len(s.selector), reverse=True
        )
        self._default_channel = default_channel

    def route(self, labels: Mapping[str, str]) -> Route:
        service = self._by_name.get(labels.get("service", "")) or self._match_selector(labels)
        if service is None:
            return Route(service=None, channel=self._default_channel)
        return Route(service=service.name, channel=service.channel or self._default_channel)

    def _match_selector(self, labels: Mapping[str, str]) -> ServiceRoute | None:
        for service in self._by_selector:
            if all(labels.get(key) == value for key, value in service.selector.items()):
                return service
        return None
