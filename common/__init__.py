"""Shared core of the monorepo: registry, schemas, data IO, metrics, submissions, models.

`common` knows no competition by name; competitions register themselves (see `common.registry`).
"""
