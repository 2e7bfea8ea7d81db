"""The url source: variables, hidden passwords, and a real server found (or not) at the URL."""

from __future__ import annotations

import pytest

from scripts.matrix import BinariesSource, UrlSource
from scripts.providers.base import ProvisioningError, Unavailable
from scripts.providers.ports import free_port
from scripts.sources.binaries import BinariesProvider
from scripts.sources.url import UrlProvider
from scripts.sources.urls import expand, hide_password
from tests.harness.providers_support import spec


def url_provider(backend: str, url: str) -> UrlProvider:
    source = UrlSource(url)
    return UrlProvider(spec(backend, "7.0", source), source)


def test_unset_variable_makes_the_source_unavailable_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COMPAT_TEST_REDIS_URL", raising=False)
    with pytest.raises(Unavailable, match=r"\$COMPAT_TEST_REDIS_URL, which is not set") as raised:
        url_provider("redis", "$COMPAT_TEST_REDIS_URL").check()
    assert raised.value.hint == "export COMPAT_TEST_REDIS_URL=<server URL> or use another source"


def test_variables_are_expanded_in_both_spellings() -> None:
    env = {"HOST": "db.local", "PORT": "5433"}
    assert expand("postgresql://u@${HOST}:$PORT/x", env) == "postgresql://u@db.local:5433/x"


def test_password_is_hidden_in_provenance() -> None:
    assert hide_password("mysql+pymysql://root:s3cret@h:3306/mysql") == (
        "mysql+pymysql://root:***@h:3306/mysql"
    )
    assert hide_password("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_server_at_the_url_is_attached_to_and_its_version_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis_spec = spec("redis", "7.0", BinariesSource())
    with BinariesProvider(redis_spec, BinariesSource()).start() as running:
        monkeypatch.setenv("COMPAT_TEST_REDIS_URL", running.url)
        provider = url_provider("redis", "$COMPAT_TEST_REDIS_URL")
        provider.check()
        with provider.start() as attached:
            assert attached.url == running.url
            assert attached.reported_version == running.reported_version
            assert attached.source == "url"
            assert attached.provenance == running.url


def test_nothing_listening_at_the_url_is_a_provisioning_error() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with (
        pytest.raises(
            ProvisioningError, match=r"cannot use the redis server at redis://127\.0\.0\.1"
        ),
        url_provider("redis", url).start(),
    ):
        pytest.fail("must not yield")


@pytest.mark.parametrize(
    ("backend", "written", "used"),
    [
        ("mariadb", "mysql://root@db:3306/test", "mysql+pymysql://root@db:3306/test"),
        ("postgres", "postgres://u:p@db/app", "postgresql+psycopg2://u:p@db/app"),
        ("postgres", "postgresql+psycopg://u@db/app", "postgresql+psycopg://u@db/app"),
        ("valkey", "valkey://cache:6379/2", "redis://cache:6379/2"),
    ],
)
def test_a_url_without_a_driver_gets_the_suites_and_keeps_the_rest(
    backend: str, written: str, used: str
) -> None:
    assert url_provider(backend, written).url() == used
