"""aso plugin: Server (sql.azure.com)."""
