"""Scholarly editions from structured content: print PDF, PDF/A and EPUB 3."""

__version__ = "0.1.0"
