"""Emulated products. Each has a wire layer (`wire.py`) and a domain that knows nothing of HTTP."""
