"""ExternalAPIService against a mocked HTTP API (responses)."""

from __future__ import annotations

import pytest
import requests
import responses

from app.config import get_settings
from app.services import ExternalAPIError, ExternalAPIService

USER_URL = "https://api.external.com/users/123"


@responses.activate
def test_fetch_external_user_data() -> None:
    responses.add(
        responses.GET,
        USER_URL,
        json={"id": 123, "name": "External User", "status": "active"},
        status=200,
    )
    user_data = ExternalAPIService().fetch_user(123)
    assert user_data["name"] == "External User"
    assert user_data["status"] == "active"


@responses.activate
def test_external_api_error_handling() -> None:
    responses.add(responses.GET, USER_URL, json={"error": "Not found"}, status=404)
    with pytest.raises(ExternalAPIError) as exc_info:
        ExternalAPIService().fetch_user(123)
    assert "Not found" in str(exc_info.value)
    assert exc_info.value.status_code == 404
    assert len(responses.calls) == 1  # 4xx is not retried


@responses.activate
def test_external_api_retry_logic() -> None:
    responses.add(responses.GET, USER_URL, json={"error": "Server error"}, status=500)
    responses.add(responses.GET, USER_URL, json={"id": 123, "name": "Success"}, status=200)
    user_data = ExternalAPIService(max_retries=2).fetch_user(123)
    assert user_data["name"] == "Success"
    assert len(responses.calls) == 2


@responses.activate
def test_gives_up_after_max_retries_attempts() -> None:
    responses.add(responses.GET, USER_URL, json={"error": "Server error"}, status=503)
    with pytest.raises(ExternalAPIError, match="Server error") as exc_info:
        ExternalAPIService(max_retries=3, backoff_seconds=0).fetch_user(123)
    assert exc_info.value.status_code == 503
    assert len(responses.calls) == 3


@responses.activate
def test_connection_errors_are_retried() -> None:
    responses.add(responses.GET, USER_URL, body=requests.ConnectionError("refused"))
    responses.add(responses.GET, USER_URL, json={"id": 123, "name": "Back"}, status=200)
    assert ExternalAPIService(max_retries=2).fetch_user(123)["name"] == "Back"
    assert len(responses.calls) == 2


@responses.activate
def test_requests_time_out() -> None:
    responses.add(responses.GET, USER_URL, body=requests.ReadTimeout("slow"))
    service = ExternalAPIService(max_retries=2, timeout_seconds=0.5, backoff_seconds=0)
    with pytest.raises(ExternalAPIError, match="timed out"):
        service.fetch_user(123)
    assert len(responses.calls) == 2
    assert all(call.request.req_kwargs["timeout"] == 0.5 for call in responses.calls)


@responses.activate
def test_base_url_is_configurable() -> None:
    responses.add(responses.GET, "http://users.internal:8080/users/7", json={"id": 7}, status=200)
    service = ExternalAPIService(base_url="http://users.internal:8080/")
    assert service.fetch_user(7) == {"id": 7}


def test_max_retries_must_allow_one_attempt() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ExternalAPIService(max_retries=0)


def test_a_zero_timeout_is_refused_rather_than_replaced_by_the_default() -> None:
    with pytest.raises(ValueError, match="timeout_seconds must be positive"):
        ExternalAPIService(timeout_seconds=0)


@responses.activate
def test_a_success_that_is_not_json_is_a_clear_error_and_not_retried() -> None:
    responses.add(responses.GET, USER_URL, body="<html>maintenance</html>", status=200)
    service = ExternalAPIService(max_retries=3, backoff_seconds=0)
    with pytest.raises(ExternalAPIError, match=r"not JSON.*maintenance"):
        service.fetch_user(123)
    assert len(responses.calls) == 1


@responses.activate
def test_explicit_arguments_need_no_service_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # a client built with everything it needs must not demand the service's JWT_SECRET
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("JWT_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        responses.add(responses.GET, "http://users.internal/users/7", json={"id": 7})
        service = ExternalAPIService(base_url="http://users.internal", timeout_seconds=1)
        assert service.fetch_user(7) == {"id": 7}
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
