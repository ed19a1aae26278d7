from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from rathaus.accounts.constants import OfficeKind
from rathaus.accounts.models import Office, User
from rathaus.core.constants import AreaKind
from rathaus.core.models import Area

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_loads_leipzigs_districts_and_office_tree() -> None:
    output = _run("import-leipzig-offices")
    assert Area.objects.filter(kind=AreaKind.STADTBEZIRK).count() == 10
    assert Area.objects.filter(kind=AreaKind.ORTSTEIL).count() == 63
    assert Area.objects.get(name="Connewitz").parent.name == "Süd"  # type: ignore[union-attr]
    root = Office.objects.get(kind=OfficeKind.ADMINISTRATION)
    assert Office.objects.filter(parent=root, name="Ordnungsamt").exists()
    health = Office.objects.get(name="Gesundheitsamt")
    assert health.children.filter(name__startswith="Amtsärztlicher Dienst").count() == 2
    unit = Office.objects.get(name__startswith="Amtsärztlicher Dienst. Sozialmedizin")
    assert (unit.street, unit.postal_code, unit.city) == (
        "Gustav-Mahler-Straße 3",
        "04109",
        "Leipzig",
    )
    assert "offices: 59 read, 59 created" in output


def test_second_import_changes_nothing_and_says_so() -> None:
    _run("import-leipzig-offices")
    before = Office.objects.count(), Area.objects.count()
    output = _run("import-leipzig-offices")
    assert (Office.objects.count(), Area.objects.count()) == before
    assert "0 created, 0 updated" in output
    assert "nothing to change" in output


def test_import_updates_a_changed_office(tmp_path: Path) -> None:
    from rathaus.accounts import leipzig

    _run("import-leipzig-offices")
    changed = leipzig.OFFICES_FILE.read_text().replace(
        '"Stadt Leipzig, Ordnungsamt"', '"Stadt Leipzig, Ordnungs- und Bürgeramt"'
    )
    path = tmp_path / "offices.ttl"
    path.write_text(changed)
    output = _run("import-leipzig-offices", "--offices", str(path))
    assert "1 updated" in output
    assert Office.objects.filter(name="Ordnungs- und Bürgeramt").exists()


def test_broken_turtle_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "broken.ttl"
    path.write_text("@prefix org: <http://www.w3.org/ns/org#> .\n<a> org:unitOf ")
    with pytest.raises(CommandError, match="kein gültiges Turtle"):
        _run("import-leipzig-offices", "--offices", str(path))
    assert not Office.objects.exists()


@override_settings(DEMO=True)
def test_seed_demo_twice_keeps_one_user_per_role_and_prints_logins() -> None:
    first = _run("seed-demo")
    second = _run("seed-demo")
    assert "demo users: 8 created" in first
    assert "demo users: 0 created, 8 kept" in second
    # the offices with demo caseworkers can decide with a standard letter, made once
    assert "decision letter templates: 2 created" in first
    assert "decision letter templates: 0 created" in second
    assert User.objects.count() == 8
    assert "sachbearbeitung@demo.rathaus.example" in second
    assert "rathaus-demo" in second


@override_settings(DEMO=False)
def test_seed_demo_refuses_outside_demo_mode() -> None:
    with pytest.raises(CommandError, match="RATHAUS_DEMO"):
        _run("seed-demo")


def test_a_unit_whose_parent_is_rejected_is_not_made_a_root(tmp_path: Path) -> None:
    from rathaus.accounts import leipzig

    text = leipzig.OFFICES_FILE.read_text().replace(
        'rdfs:label "Stadt Leipzig, Gesundheitsamt"', 'rdfs:comment "ohne Namen"'
    )
    path = tmp_path / "offices.ttl"
    path.write_text(text)
    output = _run("import-leipzig-offices", "--offices", str(path))
    assert not Office.objects.filter(name__startswith="Amtsärztlicher Dienst").exists()
    assert "was rejected" in output


@override_settings(DEMO=True)
def test_demo_city_gives_every_municipal_service_an_office() -> None:
    from rathaus.catalog.constants import MUNICIPAL_LEIKA_TYPES
    from rathaus.catalog.models import Location, Service

    _run("seed-demo")
    municipal = Service.objects.filter(leika_type__in=MUNICIPAL_LEIKA_TYPES)
    assert municipal.count() > 4000
    assert not municipal.filter(offices=None).exists()
    assert Service.objects.get(leika_key="99102013000000").offices.get().name == "Stadtkämmerei"
    assert Service.objects.get(leika_key="99115005104000").offices.get().name == "Ordnungsamt"
    assert Location.objects.filter(office__name="Ordnungsamt").exists()


@override_settings(DEMO=True)
def test_seed_demo_creates_the_users_even_when_open_data_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Regression: publish-open-data ran before the users; when it raised, no log-ins."""
    import importlib

    command = importlib.import_module("rathaus.citydata.management.commands.publish-open-data")

    def broken(**kwargs: object) -> object:
        raise OSError("no space left on device")

    monkeypatch.setattr(command, "publish_open_data", broken)
    out, err = StringIO(), StringIO()
    call_command("seed-demo", stdout=out, stderr=err)
    assert "demo users: 8 created" in out.getvalue()
    assert User.objects.count() == 8
    assert "open data not published (OSError: no space left on device)" in err.getvalue()


def test_tests_write_files_into_a_temporary_media_root(settings: object) -> None:
    """Regression: seed-demo in these tests wrote ~115 files into the real var/media."""
    from django.conf import settings as live

    assert Path(live.MEDIA_ROOT) != live.VAR_DIR / "media"
