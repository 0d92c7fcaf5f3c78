"""Benchmark support: data loading, retrieval/answer metrics, baselines and reports."""
