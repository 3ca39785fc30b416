"""DMS Enterprise 2018-11-01: tickets, data export, data tracking."""
