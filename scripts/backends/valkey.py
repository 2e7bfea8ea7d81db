"""Valkey: Redis under other names (program, image module, `valkey_version` in `INFO`)."""

from __future__ import annotations

from typing import Any

from scripts.backends.base import ImageContract, ServerBackend
from scripts.backends.redis import Redis


class Valkey(Redis):
    name = "valkey"
    display_name = "Valkey"
    report_order = 60
    url_schemes = ("valkey", "valkeys", "redis", "rediss", "unix")
    program_names = ("valkey-server",)
    container_module = "testcontainers.community.valkey"
    container_class = "ValkeyContainer"

    def image_contract(self, password: str) -> ImageContract:
        return ImageContract(
            self.container_module,
            self.container_class,
            password_setter="with_password",  # noqa: S106 - a method name, not a password
        )

    def container_url(self, container: Any) -> str:
        return ServerBackend.container_url(self, container)  # ValkeyContainer has one


BACKEND = Valkey()
