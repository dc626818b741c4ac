"""Data ingestion: loaders, real datasets, the ccxt fetcher and the ingestion pipeline."""
