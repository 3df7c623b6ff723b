"""aso plugin: Azure Storage (storage.azure.com): accounts, blob and queue services, containers, queues, management policies."""
