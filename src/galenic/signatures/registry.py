"""Which models can be signed, and how each produces the canonical content a signature covers.

A feature registers its signable model once, in its ``AppConfig.ready()``::

    from galenic.signatures import registry

    registry.register("recipes.mbrversion", mbr_version_content)

``content`` receives a freshly loaded instance and returns a JSON-able mapping of exactly what
the signer vouches for: the substance of the record (steps, values, limits), never fields that
legitimately change after signing (a lifecycle status, "last viewed", counters), or every later
transition would show the signature as "changed after signing".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

ContentFn = Callable[[Any], Mapping[str, Any]]
F = TypeVar("F", bound=ContentFn)


class NotSignable(LookupError):
    """The model has no registered content function (a programming error, not a user error)."""


@dataclass(frozen=True)
class Signable:
    label: str  # "app_label.modelname", as in Model._meta.label_lower
    content: ContentFn


_REGISTRY: dict[str, Signable] = {}


def label_of(obj_or_model: models.Model | type[models.Model]) -> str:
    return obj_or_model._meta.label_lower


def register(label: str, content: F) -> F:
    """Register ``content`` for the model ``label`` (``"app_label.modelname"``)."""
    label = label.lower()
    existing = _REGISTRY.get(label)
    if existing is not None and existing.content is not content:
        raise ValueError(f"{label} is already registered as signable")
    _REGISTRY[label] = Signable(label=label, content=content)
    return content


def unregister(label: str) -> None:
    """For tests that register a model temporarily."""
    _REGISTRY.pop(label.lower(), None)


def is_registered(label: str) -> bool:
    return label.lower() in _REGISTRY


def labels() -> list[str]:
    return sorted(_REGISTRY)


def get(label: str) -> Signable:
    try:
        return _REGISTRY[label.lower()]
    except KeyError:
        raise NotSignable(
            f"{label} is not signable: register its content with "
            "galenic.signatures.registry.register()"
        ) from None


def model_for(label: str) -> type[models.Model]:
    app_label, _, model_name = label.partition(".")
    return apps.get_model(app_label, model_name)


def load(label: str, object_id: str) -> models.Model | None:
    """The record as stored now, or None when it no longer exists."""
    model = model_for(label)
    try:
        return model._base_manager.filter(pk=object_id).first()
    except (ValueError, TypeError, ValidationError):  # an id that cannot be this model's pk
        return None


def content_of(obj: models.Model) -> Mapping[str, Any]:
    content = get(label_of(obj)).content(obj)
    if not isinstance(content, Mapping):
        raise TypeError(f"content function for {label_of(obj)} must return a mapping")
    return content
