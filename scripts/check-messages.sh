#!/bin/sh
# Fails when a German text in the code has no English translation, or only a fuzzy one.
# Extracts the texts into the .po file as `make messages` would, reads msgfmt's statistics,
# and puts the committed .po file back whatever happens.
set -eu
if ! command -v xgettext >/dev/null || ! command -v msgfmt >/dev/null; then
  echo "check-messages: GNU gettext is not installed; translations not checked"
  exit 0
fi
po=src/rathaus/locale/en/LC_MESSAGES/django.po
backup=$(mktemp)
cp "$po" "$backup"
trap 'cp "$backup" "$po"; rm -f "$backup"' EXIT
(cd src/rathaus && ../../.venv/bin/rathaus makemessages -l en --no-obsolete --ignore "tests/*" >/dev/null)
stats=$(msgfmt --statistics -o /dev/null "$po" 2>&1)
case "$stats" in
  *fuzzy*|*untranslated*)
    echo "check-messages: $stats"
    echo "Run make messages and translate the new texts in $po"
    msgattrib --untranslated "$po" | grep '^msgid "[^"]' || true
    msgattrib --only-fuzzy "$po" | grep '^msgid "[^"]' || true
    exit 1 ;;
  *) echo "check-messages: $stats" ;;
esac
