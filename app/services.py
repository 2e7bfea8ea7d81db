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
        if timeout_seconds is not None and timeout_seconds <= 0:
            raise ValueError(f"timeout_seconds must be positive, got {timeout_seconds}")
        if base_url is None:
            base_url = get_settings().external_api_base_url
        if timeout_seconds is None:
            timeout_seconds = get_settings().external_api_timeout_seconds
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.timeout_seconds = timeout_seconds
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
                    return _user_body(url, response)
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


def _user_body(url: str, response: requests.Response) -> dict[str, Any]:
    """The JSON object of a successful answer; anything else is the service's error, not ours."""
    try:
        body = response.json()
    except ValueError:
        raise ExternalAPIError(
            f"GET {url} answered {response.status_code} with a body that is not JSON: "
            f"{response.text[:200]!r}",
            response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise ExternalAPIError(
            f"GET {url} answered {response.status_code} with JSON that is not an object: "
            f"{str(body)[:200]}",
            response.status_code,
        )
    return body


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
