"""Prefect flows: ingestion, deletion and pruning."""
