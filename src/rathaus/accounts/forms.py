from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-Mail-Adresse"),
        widget=forms.EmailInput(attrs={"autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Passwort"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Focus the e-mail field on a fresh form only: after an error, the page starts at the
        # top, where the error summary is read first.
        if not self.is_bound:
            self.fields["username"].widget.attrs["autofocus"] = True

    error_messages = {
        "invalid_login": _(
            "E-Mail-Adresse oder Passwort sind nicht richtig. Bitte prüfen Sie Ihre Eingabe."
        ),
        "inactive": _("Dieses Konto ist gesperrt."),
    }


class TokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Sicherheitscode"),
        help_text=_("Der sechsstellige Code aus Ihrer Authenticator-App."),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Bitte geben Sie die sechs Ziffern des Codes ein.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": "7"}
        ),
    )

    def clean_token(self) -> str:
        return str(self.cleaned_data["token"]).strip()


class MagicLinkForm(forms.Form):
    email = forms.EmailField(
        label=_("E-Mail-Adresse"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Bitte geben Sie Ihre E-Mail-Adresse ein."),
            "invalid": _(
                "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.org."
            ),
        },
    )
