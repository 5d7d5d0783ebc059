"""Metrics, filed in the registry under kind "metric"; all return a float over a batch."""
