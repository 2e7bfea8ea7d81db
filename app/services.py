"""Clients of external HTTP services."""

from __future__ import annotations

import logging
import time
from typing import Any

import requests

from app.config import get_settings

log = logging.getLogger(__name__)


class ExternalAPIError(Exception):
    """The external service answered with an error, or could not be reached."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class ExternalAPIService:
    """Reads users from the external API, retrying transient failures."""

    def __init__(
        self,
        base_url: str | None = None,
        max_retries: int = 3,
        timeout_seconds: float | None = None,
        backoff_seconds: float = 0.05,
        session: requests.Session | None = None,
    ) -> None:
        if max_retries < 1:
            raise ValueError(
                f"max_retries must be at least 1 (attempts in total), got {max_retries}"
            )
        settings = get_settings()
        self.base_url = (base_url or settings.external_api_base_url).rstrip("/")
        self.max_retries = max_retries
        self.timeout_seconds = timeout_seconds or settings.external_api_timeout_seconds
        self.backoff_seconds = backoff_seconds
        self._session = session or requests.Session()

    def fetch_user(self, user_id: int) -> dict[str, Any]:
        """GET {base_url}/users/{user_id}: 5xx and connection errors are retried.

        Makes at most `max_retries` attempts in total; raises ExternalAPIError with the
        service's own message on 4xx, and after the last failed attempt.
        """
        url = f"{self.base_url}/users/{user_id}"
        last_error = ExternalAPIError(f"GET {url} was not attempted")
        for attempt in range(1, self.max_retries + 1):
            if attempt > 1:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 2))
            try:
                response = self._session.get(url, timeout=self.timeout_seconds)
            except requests.Timeout as error:
                last_error = ExternalAPIError(
                    f"GET {url} timed out after {self.timeout_seconds} s: {error}"
                )
            except requests.ConnectionError as error:
                last_error = ExternalAPIError(f"GET {url} could not connect: {error}")
            else:
                if response.status_code < 400:
                    body: dict[str, Any] = response.json()
                    return body
                message = _error_message(response)
                if response.status_code < 500:
                    raise ExternalAPIError(
                        f"GET {url} failed with {response.status_code}: {message}",
                        response.status_code,
                    )
                last_error = ExternalAPIError(
                    f"GET {url} failed with {response.status_code}: {message}", response.status_code
                )
            log.warning("attempt %d/%d: %s", attempt, self.max_retries, last_error)
        raise last_error


def _error_message(response: requests.Response) -> str:
    """The service's own error message: `error`/`detail`/`message` of a JSON body, or the text."""
    try:
        body = response.json()
    except ValueError:
        return response.text or response.reason or "no message"
    if isinstance(body, dict):
        for field in ("error", "detail", "message"):
            if field in body:
                return str(body[field])
    return str(body)
