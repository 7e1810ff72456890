"""Deployment checks: the Helm chart rendered by the real helm CLI, the image and skaffold."""
