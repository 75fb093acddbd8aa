"""The Node.js fault lab: real services with switchable faults, observed by real Prometheus.

Start it with `LabStack` (see `lab.stack`); the Node.js code lives in `lab/node/`.
"""

from lab.monitoring import Webhook
from lab.nodeapp import FAULTS, FLAVOURS, Flavour, RunningService, ServiceSpec
from lab.packages import MissingPackagesError, ensure_debian_packages
from lab.postgres import LabDatabase
from lab.procs import LabProcessError
from lab.promapi import LabWaitTimeout, PrometheusApi, PrometheusQueryError
from lab.rules import RuleSettings
from lab.stack import LabStack

__all__ = [
    "FAULTS",
    "FLAVOURS",
    "Flavour",
    "LabDatabase",
    "LabProcessError",
    "LabStack",
    "LabWaitTimeout",
    "MissingPackagesError",
    "PrometheusApi",
    "PrometheusQueryError",
    "RuleSettings",
    "RunningService",
    "ServiceSpec",
    "Webhook",
    "ensure_debian_packages",
]
