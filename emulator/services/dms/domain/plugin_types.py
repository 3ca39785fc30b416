"""Ticket types and what is known of their parameters without validating them: importing this
does not load marshmallow (plugin_params.py does, on the first ticket), which keeps start-up short."""

from __future__ import annotations

# the PluginType values CreateOrder accepts (DATA_TRACK tickets come from CreateDataTrackOrder)
PLUGIN_TYPES = (
    "DATA_EXPORT",
    "DC_COMMON",
    "DC_CHUNK",
    "DC_CRON_CLEAR",
    "NDDL",
    "PERM_APPLY",
    "OWNER_APPLY",
)
TRACK_TYPES = ("INSERT", "UPDATE", "DELETE")


class PluginParamError(ValueError):
    """The parameters do not fit the ticket type; the message lists every problem."""
