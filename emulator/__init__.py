"""dms-emulator: a local emulator of Alibaba Cloud DMS Enterprise and Security Center APIs."""

__version__ = "0.1.0"
