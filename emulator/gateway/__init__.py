"""The gateway: parse, authenticate, fault, route and render every API request."""
