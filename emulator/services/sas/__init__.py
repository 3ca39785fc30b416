"""Security Center (Sas) 2018-12-03: record exports."""
