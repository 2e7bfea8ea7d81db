"""Every length the API accepts fits its column on every backend, in 4-byte characters too."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, Text, inspect

from app.limits import CONTENT_MAX, NAME_MAX, TITLE_MAX, UTF8MB4_BYTES_PER_CHARACTER

EMOJI = "\U0001f600"  # 4 bytes in UTF-8 / utf8mb4


def test_the_longest_name_title_and_content_in_emoji_are_stored_whole(
    client: TestClient, auth_headers: dict[str, str]
) -> None:
    user = client.post("/users", json={"name": EMOJI * NAME_MAX, "email": "emoji@example.com"})
    assert user.status_code == 201
    assert client.get(f"/users/{user.json()['id']}").json()["name"] == EMOJI * NAME_MAX

    body = {"title": EMOJI * TITLE_MAX, "content": EMOJI * CONTENT_MAX}
    post = client.post("/posts", json=body, headers=auth_headers)
    assert post.status_code == 201
    stored = client.get(f"/posts/{post.json()['id']}").json()
    assert (stored["title"], stored["content"]) == (body["title"], body["content"])


def test_post_content_column_holds_the_schema_maximum_in_utf8mb4_bytes(engine: Engine) -> None:
    # the column the database made, not the driver's bind type: psycopg 3's dialect binds Text
    # as its own string type, which is no Text subclass
    columns = {column["name"]: column for column in inspect(engine).get_columns("posts")}
    column_type = columns["content"]["type"]
    if engine.dialect.name in ("mysql", "mariadb"):
        # TEXT holds 65,535 bytes, MEDIUMTEXT 16 MiB: the schema allows 80,000 bytes.
        assert type(column_type).__name__ in ("MEDIUMTEXT", "LONGTEXT")
    else:
        assert isinstance(column_type, Text)
        assert column_type.length is None or column_type.length >= (
            CONTENT_MAX * UTF8MB4_BYTES_PER_CHARACTER
        )
