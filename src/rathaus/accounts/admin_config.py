"""Installs RathausAdminSite as the admin site (kept apart: loaded before the models)."""

from django.contrib.admin.apps import AdminConfig


class RathausAdminConfig(AdminConfig):
    default_site = "rathaus.accounts.admin_site.RathausAdminSite"
