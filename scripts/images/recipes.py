"""The images this project builds itself: their recipes (`scripts.backends.image_recipe`,
given by each backend module) and how to tell them from the official ones."""

from __future__ import annotations

from scripts.backends.image_recipe import BASE_PACKAGES, PREFIX, SYSTEM_PATH, ImageRecipe

__all__ = [
    "BASE_PACKAGES",
    "PREFIX",
    "SYSTEM_PATH",
    "ImageRecipe",
    "UnknownImageError",
    "is_local_image",
]


class UnknownImageError(LookupError):
    """No recipe builds this image; the message lists the ones that exist."""


def is_local_image(tag: str) -> bool:
    """True for images this project builds itself (under its own prefix)."""
    return tag.startswith(f"{PREFIX}/")
