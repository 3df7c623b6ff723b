"""aso plugin: Azure Storage (storage.azure.com): accounts, their blob and queue services,
containers, queues and management policies."""
