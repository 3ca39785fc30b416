"""Security Center domain: export families, their fixture records, filters and lifecycle."""
