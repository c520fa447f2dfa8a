"""Clustering internals: e5 embeddings and per-process centroid cache (used by carto.services.clustering)."""
