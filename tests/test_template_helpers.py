"""The templates' fast paths: the pager's page numbers, kept addresses (forum.links) and the
request's catalogue for `_` (forum.i18n). Each must give what the slow path gives."""

import pytest
from flask import render_template_string, url_for
from flask_babel import force_locale, refresh

from forum import links
from forum.links import page_numbers, template_url_for


@pytest.mark.parametrize(("current", "count", "shown"), [
    (1, 1, [1]),
    (1, 2, [1, 2]),
    (1, 34, [1, 2, 3, None, 34]),
    (34, 34, [1, None, 32, 33, 34]),
    (5, 34, [1, None, 3, 4, 5, 6, 7, None, 34]),
    (4, 34, [1, 2, 3, 4, 5, 6, None, 34]),
    (3, 7, [1, 2, 3, 4, 5, None, 7]),
])
def test_the_pager_shows_the_ends_and_two_pages_either_side(current, count, shown):
    assert page_numbers(current, count) == shown


def test_the_pager_does_not_grow_with_the_thread():
    assert len(page_numbers(5000, 10_000)) == len(page_numbers(50, 100)) == 9


def test_kept_addresses_are_flasks_own(app):
    with app.test_request_context("/"):
        for endpoint, values in [("groups.dashboard", {}),
                                 ("static", {"filename": "css/forum.css"}),
                                 ("discussions.thread", {"slug": "a-b", "thread_id": 7}),
                                 ("discussions.thread", {"slug": "a-b", "thread_id": 7,
                                                         "page": 2})]:
            first = template_url_for(endpoint, **values)
            assert first == url_for(endpoint, **values)
            assert template_url_for(endpoint, **values) == first  # the kept one


def test_kept_addresses_follow_where_the_app_is_mounted(app):
    with app.test_request_context("/"):
        plain = template_url_for("groups.dashboard")
    with app.test_request_context("/", base_url="http://example.org/forum/"):
        mounted = template_url_for("groups.dashboard")
    assert plain == "/"
    assert mounted == "/forum/"


def test_a_true_value_is_not_taken_for_one(app):
    with app.test_request_context("/"):
        one = template_url_for("discussions.thread", slug="a", thread_id=1, page=1)
        true = template_url_for("discussions.thread", slug="a", thread_id=1, page=True)
    assert one.endswith("page=1") and true.endswith("page=True")


def test_external_addresses_are_never_kept(app):
    with app.test_request_context("/", base_url="http://one.example/"):
        first = template_url_for("groups.dashboard", _external=True)
    with app.test_request_context("/", base_url="http://two.example/"):
        second = template_url_for("groups.dashboard", _external=True)
    assert first == "http://one.example/" and second == "http://two.example/"


def test_kept_addresses_are_bounded(app, monkeypatch):
    monkeypatch.setattr(links, "MAX_KEPT_URLS", 3)
    monkeypatch.setattr(links, "_KEPT_URLS", {})
    with app.test_request_context("/"):
        for number in range(10):
            assert template_url_for("discussions.thread", slug="a", thread_id=number) == \
                f"/g/a/t/{number}"
    assert len(links._KEPT_URLS) <= 3


def test_templates_translate_in_the_locale_in_force(app):
    page = "{{ _('Reply') }}|{{ ngettext('%(num)d reply', '%(num)d replies', 2) }}"
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        polish = render_template_string(page)
        with force_locale("ca"):  # an e-mail in its recipient's language
            catalan = render_template_string(page)
        again = render_template_string(page)
        with force_locale("en"):
            english = render_template_string(page)
    assert polish == again
    assert len({polish, catalan, english}) == 3
    assert english == "Reply|2 replies"


def test_a_refreshed_locale_is_followed(app):
    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        before = render_template_string("{{ _('Reply') }}")
        from flask import session
        session["locale"] = "en"
        refresh()
        after = render_template_string("{{ _('Reply') }}")
    assert before != "Reply" and after == "Reply"


def test_sizes_follow_the_locale_in_force(app):
    from forum.web import format_size

    with app.test_request_context("/", headers={"Accept-Language": "pl"}):
        polish = format_size(1_234_567)
        with force_locale("en"):
            english = format_size(1_234_567)
        assert format_size(1_234_567) == polish
    assert polish.startswith("1,2") and english.startswith("1.2")
