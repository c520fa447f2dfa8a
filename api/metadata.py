"""What an OPTIONS request is told: the methods (Allow), what the view renders and parses; nothing else."""

from __future__ import annotations

from rest_framework.metadata import SimpleMetadata


class PublicMetadata(SimpleMetadata):
    """DRF's answer without the view's name and docstring: those are notes for us (roles, thresholds, how a
    rule is enforced), written for the code; the API's contract is the OpenAPI schema at /api/schema/."""

    def determine_metadata(self, request, view):
        metadata = super().determine_metadata(request, view)
        metadata.pop("name", None)
        metadata.pop("description", None)
        return metadata
