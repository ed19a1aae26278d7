"""The economy app's JSON API under /api/v1/economy/ (the directory's public fields)."""

from ninja import Router

router = Router(tags=["economy"])
