"""aso plugin for Azure resource groups."""
