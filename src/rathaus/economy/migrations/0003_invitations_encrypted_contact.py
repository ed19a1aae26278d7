"""Invitations to join an organisation (instead of adding any account by its address), and
a post's contact and a claim's evidence kept encrypted: the plain columns are encrypted into
the new ones, then dropped."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from rathaus.core.crypto import encrypt_json


def encrypt_plain_values(apps, schema_editor):
    Claim = apps.get_model("economy", "Claim")
    Post = apps.get_model("economy", "Post")
    for claim in Claim.objects.exclude(evidence="").only("pk", "evidence"):
        Claim.objects.filter(pk=claim.pk).update(evidence_encrypted=encrypt_json(claim.evidence))
    for post in Post.objects.exclude(contact="").only("pk", "contact"):
        Post.objects.filter(pk=post.pk).update(contact_encrypted=encrypt_json(post.contact))


class Migration(migrations.Migration):
    dependencies = [
        ("economy", "0002_rooms_no_overlap"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="evidence_encrypted",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="post",
            name="contact_encrypted",
            field=models.TextField(blank=True),
        ),
        migrations.RunPython(encrypt_plain_values, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="claim",
            name="evidence",
        ),
        migrations.RemoveField(
            model_name="post",
            name="contact",
        ),
        migrations.CreateModel(
            name="Invitation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="angelegt"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="geändert")),
                ("email_encrypted", models.TextField()),
                (
                    "role",
                    models.CharField(
                        choices=[("admin", "Verwaltet das Profil"), ("member", "Mitglied")],
                        default="member",
                        max_length=20,
                        verbose_name="Rolle",
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("expires_at", models.DateTimeField()),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                ("withdrawn_at", models.DateTimeField(blank=True, null=True)),
                (
                    "accepted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "invited_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "organisation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="invitations",
                        to="economy.organisation",
                    ),
                ),
            ],
            options={
                "verbose_name": "Einladung",
                "verbose_name_plural": "Einladungen",
                "ordering": ["-created_at", "-pk"],
                "indexes": [
                    models.Index(
                        fields=["organisation", "accepted_at", "withdrawn_at"],
                        name="economy_inv_organis_0b7e34_idx",
                    )
                ],
            },
        ),
    ]
