"""The entry point uvicorn imports (``ms-prcs serve``): settings from the environment, read once per worker
process, and the logging of the access log and the authentication warnings."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ms_prcs.service.app import create_app
from ms_prcs.settings import Settings

LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    },
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "ms_prcs": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def app_from_env() -> FastAPI:
    from ms_prcs.service.pages import ROUTERS

    return create_app(Settings.from_env(), page_routers=ROUTERS)
