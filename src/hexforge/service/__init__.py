"""What a served project runs on: ``create_service`` builds its application."""

from hexforge.service.app import create_service
from hexforge.service.settings import ServiceSettings, load

__all__ = ["ServiceSettings", "create_service", "load"]
