"""Declarative request input: DRF serializers that validate a body or a query, document it in the OpenAPI
schema (drf-spectacular reads the same fields) and turn every refusal into one InvalidInput whose code and
message come from the serializer's table of errors."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import ClassVar

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from carto.errors import InvalidInput


def is_form(field: serializers.Field) -> bool:
    """A multipart form or a query string: every value arrives as text."""
    return bool(field.root.context.get("form"))


def is_text(field: serializers.Field) -> bool:
    """A top-level value of a form (inside a nested object sent as JSON text, JSON types apply)."""
    return is_form(field) and field.parent is field.root


class Input(serializers.Serializer):
    """An input that is an object (a JSON body, a form or a query string).

    ERRORS maps a refusal to what the client sees: keys are "path:rule" (a DRF error key such as
    "required", "max_length", or one of ours; ":rule" for the body itself), "*:rule" for any top-level
    field, or "path" for any rule of that field and the fields inside it; values are (code, message),
    where {name} is the field and {names} every field refused by the same rule.
    """

    ERRORS: ClassVar[dict[str, tuple[str, str]]] = {
        ":not_an_object": ("malformed_request", "The body must be a JSON object."),
        "*:unknown_field": ("unknown_field", "Unknown field(s): {names}"),
        "*:bad_json": ("malformed_request", "{name} is not valid JSON"),
        "*:required": ("missing_field", "{name} is required"),
        "*:null": ("missing_field", "{name} is required"),
    }

    def to_internal_value(self, data):
        if self.parent is not None and is_form(self) and isinstance(data, str):
            # A multipart form carries a nested object (location, mediated) as JSON text.
            try:
                data = json.loads(data)
            except ValueError:
                raise _whole("not valid JSON", code="bad_json") from None
        if not isinstance(data, Mapping):
            raise _whole("not an object", code="not_an_object")
        self.check_names(data)
        return super().to_internal_value(data)

    def check_names(self, data: Mapping) -> None:
        """Other parameters are ignored (a query string may carry a cache-buster)."""

    @classmethod
    def validated(cls, data, **context) -> dict:
        """The validated data, or the first refusal (in field order) as an InvalidInput."""
        if hasattr(data, "getlist"):  # a QueryDict: one value per name, no HTML-form defaults
            data = data.dict()
        serializer = cls(data=data, context=context)
        if not serializer.is_valid():
            raise cls.refusal(serializer.errors)
        return serializer.validated_data

    @classmethod
    def refusal(cls, errors) -> InvalidInput:
        found = list(_flatten(errors))
        table = {**Input.ERRORS, **cls.ERRORS}
        fields: dict[str, list[str]] = {}
        for path, rule in found:
            if path:
                fields.setdefault(path[:60], []).append(_message(table, found, path, rule)[1])
        path, rule = found[0]
        code, message = _message(table, found, path, rule)
        return InvalidInput(code, message, fields=fields)


class StrictInput(Input):
    """Refuses fields it does not know (no silent mass assignment); the schema says so
    (additionalProperties: false, api/schema.py)."""

    def check_names(self, data: Mapping) -> None:
        if unknown := sorted(set(data) - set(self.fields), key=str):
            raise serializers.ValidationError(
                {str(name)[:60]: ["unknown field"] for name in unknown[:20]}, code="unknown_field"
            )


def _whole(message: str, *, code: str) -> serializers.ValidationError:
    """An error about the object itself (DRF expects a dict from to_internal_value)."""
    return serializers.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [message]}, code=code)


def _flatten(errors, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, rule) of each DRF error, in field order; list indexes and non-field keys dropped."""
    if isinstance(errors, Mapping):
        for key, value in errors.items():
            if key == api_settings.NON_FIELD_ERRORS_KEY or isinstance(key, int):
                yield from _flatten(value, path)
            else:
                yield from _flatten(value, f"{path}.{key}" if path else str(key))
    elif isinstance(errors, list):
        for item in errors:
            yield from _flatten(item, path)
    else:
        yield path, getattr(errors, "code", None) or "invalid"


def _message(table: dict, found: list, path: str, rule: str) -> tuple[str, str]:
    code, message = _lookup(table, path, rule)
    names = ", ".join(p for p, r in found if r == rule)[:200]
    # replace(), not format(): messages may show JSON braces.
    return code, message.replace("{names}", names).replace("{name}", path[:60])


def _lookup(table: dict, path: str, rule: str) -> tuple[str, str]:
    if f"{path}:{rule}" in table:
        return table[f"{path}:{rule}"]
    if path and "." not in path and f"*:{rule}" in table:
        return table[f"*:{rule}"]
    prefix = path
    while prefix:
        if prefix in table:
            return table[prefix]
        prefix = prefix.rpartition(".")[0]
    return "invalid_input", "{name} is not valid." if path else "Invalid input."


class String(serializers.CharField):
    """A JSON string (DRF's CharField would also take a number or a boolean and make it text)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Number(serializers.FloatField):
    """A finite JSON number: not a boolean, not a string unless the input is a form (all text there)."""

    default_error_messages = {"not_a_number": "must be a finite number"}

    def to_internal_value(self, data):
        if isinstance(data, str) and is_text(self):
            try:
                data = float(data)
            except ValueError:
                self.fail("not_a_number")
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("not_a_number")
        try:
            number = float(data)
        except OverflowError:  # a 400-digit JSON integer
            self.fail("not_a_number")
        if not math.isfinite(number):
            self.fail("not_a_number")
        return number


class Boolean(serializers.BooleanField):
    """A JSON true or false (DRF's BooleanField would also take 1, "yes", "on"); "true"/"false" in a form."""

    def to_internal_value(self, data):
        if isinstance(data, str) and is_form(self) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


@extend_schema_field({"type": "boolean", "enum": [True]})
class TrueOnly(Boolean):
    """A boolean that must be true (a consent)."""

    default_error_messages = {"must_be_true": "must be true"}

    def to_internal_value(self, data):
        if super().to_internal_value(data) is not True:
            self.fail("must_be_true")
        return True


class UUID(serializers.UUIDField):
    """A UUID as a JSON string (DRF's UUIDField would also take an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
