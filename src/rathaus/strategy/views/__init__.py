"""The strategy pillar's pages under /strategie/ (namespace ``strategy``), one module per part
(see ``strategy/urls.py``): the public dashboard of the published state (``public``), the
editing of strategies, fields of action, measures and milestones (``measures``), of KPIs and
their observations (``kpis``), publishing (``publish``) and the CSV import (``imports``).
Staff pages are wrapped with ``accounts.views.staff_page``."""
