"""aso plugin: DatabaseAccount (documentdb.azure.com)."""
