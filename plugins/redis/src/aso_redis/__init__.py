"""aso plugin: Redis (cache.azure.com)."""
