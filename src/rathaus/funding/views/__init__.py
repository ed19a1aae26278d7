"""The funding register's pages, one module per part (see ``funding/urls.py``). Staff pages are
wrapped with ``accounts.views.staff_page`` and find who acts with ``actor_of``."""

from __future__ import annotations

from rathaus.accounts.views import actor_of, staff_page

__all__ = ["actor_of", "staff_page"]
