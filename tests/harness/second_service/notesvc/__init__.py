"""A small notes service: notebooks hold notes; a notebook's note count is cached in Redis."""
