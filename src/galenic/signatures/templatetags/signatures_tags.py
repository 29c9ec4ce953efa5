"""Template tags so any page can show a record's signatures the one standard way.

{% load signatures_tags %}
{% signatures_of batch_step %}          {# every signature, verified now, with status #}
{% manifestation_of signature %}        {# one manifestation #}
"""

from __future__ import annotations

from typing import Any

from django import template

from galenic.signatures.manifestation import manifestation
from galenic.signatures.models import Signature
from galenic.signatures.registry import label_of
from galenic.signatures.selectors import listing_for

register = template.Library()


@register.inclusion_tag("signatures/_signature_list.html")
def signatures_of(obj: Any) -> dict[str, Any]:
    return listing_for(label_of(obj), str(obj.pk))


@register.inclusion_tag("signatures/_manifestation.html")
def manifestation_of(signature: Signature) -> dict[str, Any]:
    return {"manifestation": manifestation(signature)}
