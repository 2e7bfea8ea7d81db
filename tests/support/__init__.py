"""Provisioning helpers for the integration suite: one database, Redis db and queue per worker."""
