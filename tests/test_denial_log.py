"""Every refusal of the authorisation layer is logged with actor, target and reason (issue 19,
finding 9; OWASP ASVS 16.3.2), for pages and socket events alike."""

import logging


def _denials(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.name == "forum.security" and r.getMessage().startswith("denied ")]


def test_an_outsider_asking_for_a_closed_group_is_logged(personas, login_as, caplog):
    caplog.set_level(logging.INFO, logger="forum.security")
    outsider = login_as(personas.outsider)
    assert outsider.get(f"/g/{personas.g1.slug}/").status_code == 404
    [line] = _denials(caplog)
    assert f"actor={personas.outsider.id}" in line
    assert f"target=GET /g/{personas.g1.slug}/" in line
    assert "reason=not_found_or_hidden at forum." in line


def test_a_member_refused_a_moderators_action_is_logged(personas, login_as, caplog):
    caplog.set_level(logging.INFO, logger="forum.security")
    member = login_as(personas.member)
    assert member.get(f"/g/{personas.g1.slug}/sessions/new").status_code == 403
    [line] = _denials(caplog)
    assert f"actor={personas.member.id}" in line and "reason=not_allowed" in line
    assert f"/g/{personas.g1.slug}/sessions/new" in line


def test_a_refused_socket_event_is_logged(personas, chat_client, caplog):
    caplog.set_level(logging.INFO, logger="forum.security")
    outsider = chat_client(personas.outsider)
    assert outsider.join(personas.g1.slug)["error"] == "not_found"
    [line] = _denials(caplog)
    assert f"actor={personas.outsider.id}" in line and "target=/chat join" in line
    assert "reason=not_found_or_hidden at forum." in line


def test_what_is_allowed_is_not_logged_as_denied(personas, login_as, caplog):
    caplog.set_level(logging.INFO, logger="forum.security")
    assert login_as(personas.member).get(f"/g/{personas.g1.slug}/").status_code == 200
    assert _denials(caplog) == []
