"""{% word "nav.add" %}: a catalogue's word in the page's language (frontend/words.py), escaped by the template."""

from __future__ import annotations

from django import template

from frontend import words

register = template.Library()


@register.simple_tag(takes_context=True)
def word(context, key: str) -> str:
    """The word for `key` in the page's language (the view's `page_lang`, else the request's)."""
    return words.word(context.get("page_lang") or words.page_language(), key)
