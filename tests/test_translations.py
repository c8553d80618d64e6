"""Every UI string is in the Polish and Catalan catalogues, translated, with its placeholders."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "forum" / "translations"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]+\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """The messages the code and templates use today, extracted as `make extract-messages`
    does (the committed messages.pot may be older)."""
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg",
         "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2",
         "--ignore-dirs=.* __pycache__ node_modules .venv", "-o", str(pot), "."],
        cwd=ROOT, check=True,
    )
    with pot.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


def catalogue(locale):
    with (CATALOGUES / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


@pytest.mark.parametrize("locale", ["pl", "ca"])
def test_every_message_is_translated(extracted, locale):
    messages = {m.id: m for m in catalogue(locale) if m.id}
    missing = sorted(str(i) for i in extracted if i not in messages)
    assert not missing, f"run `make extract-messages` and translate: {missing[:10]}"
    untranslated = [
        str(i) for i in extracted
        if messages[i].fuzzy or not all(
            messages[i].string if isinstance(messages[i].string, tuple) else [messages[i].string]
        )
    ]
    assert not untranslated, f"{locale}: {len(untranslated)} untranslated: {untranslated[:10]}"


@pytest.mark.parametrize("locale", ["pl", "ca"])
def test_translations_keep_the_placeholders(extracted, locale):
    wrong = []
    for message in catalogue(locale):
        if message.id not in extracted:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            # A plural form may leave out the number ("jeden wpis"), never add a placeholder.
            if not found <= expected or (len(ids) == 1 and found != expected):
                wrong.append((ids[0], string))
    assert not wrong, wrong[:5]


def test_wtforms_own_messages_follow_each_requests_language(client):
    """WTForms' catalogues are loaded once per language and shared (forum.i18n): one person's
    language never leaks into the next request."""
    expected = {"pl": "To pole jest wymagane.", "ca": "Aquest camp és obligatori.",
                "en": "This field is required."}
    for locale in ("pl", "ca", "en", "pl"):
        page = client.post("/login", data={"email": "x", "password": ""},
                           headers={"Accept-Language": locale}).get_data(as_text=True)
        assert expected[locale] in page
        assert all(text not in page for other, text in expected.items() if other != locale)
