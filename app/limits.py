"""The sizes the API accepts and the columns hold: one place, read by the schemas and tables."""

from __future__ import annotations

NAME_MAX = 100
EMAIL_MAX = 254
TITLE_MAX = 300  # 200 until migration 0003
CONTENT_MAX = 20_000
PASSWORD_MIN = 8
PASSWORD_MAX = 128
PASSWORD_HASH_MAX = 255

# Ids are 32-bit INTEGER columns on PostgreSQL and MySQL/MariaDB: nothing above can exist.
ID_MIN = 1
ID_MAX = 2**31 - 1

# MySQL/MariaDB size text columns in bytes; a utf8mb4 character takes up to 4 of them.
UTF8MB4_BYTES_PER_CHARACTER = 4
