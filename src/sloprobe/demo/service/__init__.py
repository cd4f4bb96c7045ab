"""The reference job service: FastAPI, a real database, real worker threads, fault knobs.

Needs the ``demo`` extra (``pip install 'sloprobe[demo]'``).
"""

from sloprobe.demo.service.app import LoggedRequest
from sloprobe.demo.service.faults import Faults
from sloprobe.demo.service.server import RunningService, ServiceConfig, start_service

__all__ = ["Faults", "LoggedRequest", "RunningService", "ServiceConfig", "start_service"]
