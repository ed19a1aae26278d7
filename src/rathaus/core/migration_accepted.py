"""Migration operations that break a rule of docs/migrations.md and are accepted, with why.

``core/tests/test_migration_safety.py`` fails for any other unsafe operation, and for an entry
here that no longer matches one (the operation's text is what ``migrate --plan`` shows).

Up to 2026-11-28 Rathaus had no release (CHANGELOG.md: only [Unreleased]): no installation
runs code older than these migrations, so none of them meets an old version while it runs.
From the first release on, an entry needs a reason of its own: why the old code does not
notice, or why the lock is short (a small table), or that the upgrade stops all nodes.
"""

from __future__ import annotations

from rathaus.core.migration_safety import Accepted

BEFORE_FIRST_RELEASE = "Written before the first release: no old version runs against it."
UPSTREAM = (
    "A dependency's migration published years before Rathaus existed: an installation runs "
    "it at its first migrate, before any version of Rathaus serves. A dependency upgrade's "
    "new migrations are checked like ours."
)

ACCEPTED: tuple[Accepted, ...] = (
    Accepted(
        "accounts",
        "0002_initial",
        (
            "Add field area to office",
            "Add field parent to office",
            "Add field office to officemembership",
            "Add field user to officemembership",
            "Add field user to roleassignment",
            "Create constraint accounts_user_email_ci_unique on model user",
            "Create index accounts_of_office__f2383e_idx on field(s) office, role of model officemembership",
            "Create constraint accounts_member_once_per_office on model officemembership",
            "Create index accounts_of_name_ca195f_idx on field(s) name of model office",
            "Create index accounts_of_kind_7c766b_idx on field(s) kind, name of model office",
            "Create constraint accounts_role_once_per_user on model roleassignment",
        ),
        "The second half of the app's initial migration (makemigrations split it over the "
        "dependency on core.Area): its tables come from 0001_initial, and both always run "
        "together at an installation's first migrate.",
    ),
    Accepted(
        "catalog",
        "0003_service_retention",
        ("Add field retention_anonymise to service",),
        BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "catalog",
        "0004_official_form_mapping",
        ("Add field official_form_mapping to service",),
        BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "submissions",
        "0004_fitconnect",
        ("Add field external_id to destination",),
        "destination was created in 0003_handover of the same (first) release. "
        + BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "submissions",
        "0005_request_hash",
        ("Add field request_hash to submission",),
        BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "cases",
        "0003_applicant_name_index",
        ("Add field applicant_encrypted to case",),
        BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "cases",
        "0004_inbox_indexes",
        (
            "Add field is_open to case",
            "Create index case_open_due on field(s) office, is_open, due_on, received_at, id of model case",
            "Create index case_open_received on field(s) office, is_open, received_at, id of model case",
            "Create index case_open_priority on field(s) office, is_open, -priority, due_on, id of model case",
            "Create index case_status_due on field(s) office, status, due_on, received_at, id of model case",
            "Create index case_received on field(s) office, received_at, id of model case",
            "Create index case_assignee_due on field(s) assignee, is_open, due_on, received_at, id of model case",
        ),
        "The stored generated column rewrites cases_case and the indexes lock its writes. "
        + BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "cases",
        "0006_assignee_status_index",
        (
            "Create index case_assignee_status_due on field(s) assignee, status, due_on, received_at, id of model case",
        ),
        BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "citydata",
        "0005_feature_points_latest_values",
        ("Add field location to featureofinterest",),
        "A new nullable one-to-one column (all NULL: nothing can collide), its unique index "
        "built under a write lock. " + BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "economy",
        "0003_invitations_encrypted_contact",
        (
            "Add field evidence_encrypted to claim",
            "Add field contact_encrypted to post",
            "Remove field evidence from claim",
            "Remove field contact from post",
        ),
        "Moves the plain-text contact details into encrypted columns in one step; after the "
        "first release such a move takes two releases (add and copy, then drop). "
        + BEFORE_FIRST_RELEASE,
    ),
    Accepted(
        "strategy",
        "0002_fields_milestones_kpis_publications",
        (
            "Add field external_id to measure",
            "Add field office to measure",
            "Add field parent to measure",
            "Add field progress to measure",
            "Add field progress_mode to measure",
            "Add field responsible to measure",
            "Add field status to measure",
            "Add field status_reason to measure",
            "Add field traffic_light to measure",
            "Add field council_decision_number to strategy",
            "Add field description to strategy",
            "Add field kind to strategy",
            "Add field status to strategy",
            "Create constraint strategy_adopted_has_decision on model strategy",
            "Create index strategy_me_status_e08a1c_idx on field(s) status, code of model measure",
            "Create index strategy_me_office__6d37e1_idx on field(s) office, code of model measure",
            "Create index strategy_me_parent__7ab33c_idx on field(s) parent, code of model measure",
            "Create index strategy_me_reviewe_a0ea7b_idx on field(s) reviewed_at of model measure",
            "Create constraint strategy_measure_progress_max on model measure",
            "Create constraint strategy_measure_weight_max on model measure",
            "Create constraint strategy_measure_reason_unless_green on model measure",
            "Create constraint strategy_measure_planned_period on model measure",
            "Create constraint strategy_measure_actual_period on model measure",
        ),
        "strategy and measure were created in 0001_strategies_measures (with the funding "
        "register) of the same unreleased version; 0002 completes them. " + BEFORE_FIRST_RELEASE,
    ),
    # Dependencies' migrations.
    Accepted(
        "contenttypes",
        "0002_remove_content_type_name",
        ("Remove field name from contenttype",),
        "Django 1.8. " + UPSTREAM,
    ),
    Accepted(
        "axes",
        "0002_auto_20151217_2044",
        (
            "Alter field ip_address on accessattempt",
            "Alter field trusted on accessattempt",
            "Alter field user_agent on accessattempt",
            "Alter field username on accessattempt",
            "Alter field ip_address on accesslog",
            "Alter field trusted on accesslog",
            "Alter field user_agent on accesslog",
            "Alter field username on accesslog",
        ),
        "django-axes 2015. " + UPSTREAM,
    ),
    Accepted(
        "axes",
        "0005_remove_accessattempt_trusted",
        ("Remove field trusted from accessattempt",),
        "django-axes. " + UPSTREAM,
    ),
    Accepted(
        "axes",
        "0006_remove_accesslog_trusted",
        ("Remove field trusted from accesslog",),
        "django-axes. " + UPSTREAM,
    ),
    Accepted(
        "axes",
        "0007_alter_accessattempt_unique_together",
        ("Alter unique_together for accessattempt (1 constraint(s))",),
        "django-axes. " + UPSTREAM,
    ),
    Accepted(
        "axes",
        "0009_add_session_hash",
        ("Add field session_hash to accesslog",),
        "django-axes. " + UPSTREAM,
    ),
    Accepted(
        "otp_totp",
        "0002_auto_20190420_0723",
        ("Add field throttling_failure_count to totpdevice",),
        "django-otp 2019. " + UPSTREAM,
    ),
)
