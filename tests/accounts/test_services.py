import pytest

from forum.accounts import services
from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from tests import factories


def test_authenticate_accepts_the_right_password_whatever_the_email_case(ctx, personas):
    user = services.authenticate("  MEMBER@Example.org ", factories.PASSWORD, "10.0.0.1")
    assert user.id == personas.member.id


@pytest.mark.parametrize("email", ["member@example.org", "nobody@example.org"])
def test_wrong_password_and_unknown_email_get_the_same_answer(ctx, personas, email):
    with pytest.raises(InvalidInput) as error:
        services.authenticate(email, "not-the-password", "10.0.0.1")
    assert str(error.value.errors[""]) == "Wrong e-mail address or password."


@pytest.mark.parametrize("password", ["not-a-real-password", ""])
def test_an_account_without_a_password_yet_cannot_sign_in(ctx, password):
    """Waiting for its "choose your password" link: no password matches, not even the one
    the comparison uses for unknown addresses."""
    factories.make_user(email="setup@example.org", password_hash="")
    with pytest.raises(InvalidInput):
        services.authenticate("setup@example.org", password, "10.0.0.1")


def test_a_deactivated_account_cannot_sign_in(ctx, personas):
    with pytest.raises(InvalidInput) as error:
        services.authenticate("inactive@example.org", factories.PASSWORD, "10.0.0.1")
    assert "deactivated" in str(error.value.errors[""])


def test_failed_sign_ins_are_limited_per_account(ctx, personas):
    ctx.config["FORUM_LOGIN_LIMIT_PER_ACCOUNT"] = "5/15minute"
    for address in range(5):  # five addresses, one account
        with pytest.raises(InvalidInput):
            services.authenticate("member@example.org", "wrong-password", f"10.0.0.{address}")
    with pytest.raises(services.TooManyAttempts) as paused:
        services.authenticate("member@example.org", factories.PASSWORD, "10.0.0.99")
    assert 0 < paused.value.seconds <= 15 * 60
    # Another account from a fresh address is not affected, nor the member's usual browser.
    assert services.authenticate("moderator@example.org", factories.PASSWORD, "10.0.1.1")
    assert services.authenticate("member@example.org", factories.PASSWORD, "10.0.0.99",
                                 known_ids=frozenset({personas.member.id}))


def test_failed_sign_ins_are_limited_per_address(ctx, personas):
    ctx.config["FORUM_LOGIN_LIMIT_PER_ADDRESS"] = "20/15minute"
    for n in range(20):
        with pytest.raises(InvalidInput):
            services.authenticate(f"guess{n}@example.org", "wrong-password", "10.9.9.9")
    with pytest.raises(services.TooManyAttempts):
        services.authenticate("member@example.org", factories.PASSWORD, "10.9.9.9")
    assert services.authenticate("member@example.org", factories.PASSWORD, "10.9.9.10")
    assert services.authenticate("member@example.org", factories.PASSWORD, "10.9.9.9",
                                 known_ids=frozenset({personas.member.id}))


def test_failed_sign_ins_of_one_account_from_one_address_wait_longer_and_longer(
        ctx, personas, monkeypatch):
    from forum.accounts import throttle

    ctx.config["FORUM_LOGIN_LIMIT_PER_PAIR"] = "2/minute;3/hour"
    monkeypatch.setattr(throttle.time, "time", lambda: 1_800_000_000 + 10)  # 10 s into an hour
    for _ in range(2):
        with pytest.raises(InvalidInput):
            services.authenticate("member@example.org", "wrong-password", "10.0.0.1")
    with pytest.raises(services.TooManyAttempts) as first:
        services.authenticate("member@example.org", factories.PASSWORD, "10.0.0.1")
    assert first.value.seconds == 50  # until the minute ends
    monkeypatch.setattr(throttle.time, "time", lambda: 1_800_000_000 + 70)  # the next minute
    with pytest.raises(InvalidInput):
        services.authenticate("member@example.org", "wrong-password", "10.0.0.1")
    with pytest.raises(services.TooManyAttempts) as second:
        services.authenticate("member@example.org", factories.PASSWORD, "10.0.0.1")
    assert second.value.seconds == 3600 - 70  # the third failure: until the hour ends
    # Another address is not slowed down at all.
    assert services.authenticate("member@example.org", factories.PASSWORD, "10.0.0.2")


def test_a_successful_sign_in_forgives_earlier_failures_of_the_account(ctx, personas):
    for _ in range(4):
        with pytest.raises(InvalidInput):
            services.authenticate("member@example.org", "wrong-password", "10.0.0.1")
    services.authenticate("member@example.org", factories.PASSWORD, "10.0.0.1")
    for _ in range(4):
        with pytest.raises(InvalidInput):
            services.authenticate("member@example.org", "wrong-password", "10.0.0.1")
    assert services.authenticate("member@example.org", factories.PASSWORD, "10.0.0.1")


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short1!", "at least 10"),
        ("password1234", "too easy"),
        ("qwertyuiop12", "too easy"),
        ("aaaaaaaaaaaaaaaa", "too easy"),
        ("kowalski2026", "too easy"),  # built from the person's own name
        ("x" * 201, "at most 200"),
    ],
)
def test_weak_passwords_are_refused(ctx, password, reason):
    with pytest.raises(InvalidInput) as error:
        services.check_password(password, hints=("jan.kowalski@example.org", "Jan Kowalski"))
    assert reason in str(error.value.errors["password"])


def test_a_long_unusual_password_is_accepted(ctx):
    services.check_password("Zupa-pomidorowa-w-Lublinie", hints=("jan@example.org",))


def test_passwords_are_stored_hashed_with_a_modern_hash(app, smtp):
    # The production setting, not the cheap one the tests use elsewhere.
    app.config["FORUM_PASSWORD_HASH_METHOD"] = "scrypt"
    with app.app_context():
        user = services.create_user(None, email="new@example.org", name="Nowa Osoba",
                                    password="Zupa-pomidorowa-w-Lublinie")
        assert user.password_hash.startswith("scrypt:")
        assert "Zupa" not in user.password_hash


def test_create_user_refuses_a_duplicate_email_in_any_case(ctx, personas):
    with pytest.raises(InvalidInput) as error:
        services.create_user(None, email="Member@EXAMPLE.org", name="Kopia")
    assert "already exists" in str(error.value.errors["email"])


def test_create_user_reports_every_bad_field(ctx):
    with pytest.raises(InvalidInput) as error:
        services.create_user(None, email="not-an-address", name="x" * 121, position="y" * 121,
                             locale="de", time_zone="Mars/Olympus")
    assert set(error.value.errors) == {"email", "name", "position", "locale", "time_zone"}


def test_only_administrators_create_accounts(ctx, personas):
    with pytest.raises(PermissionDenied):
        services.create_user(factories.user(personas.member.id), email="a@example.org",
                             name="A")


def test_an_account_created_without_password_gets_a_setup_link(ctx, personas, smtp):
    admin = factories.user(personas.admin.id)
    user = services.create_user(admin, email="fresh@example.org", name="Świeża Osoba")
    [message] = smtp.wait_for(1)
    assert message["To"] == "fresh@example.org"
    link = next(line for line in message.get_content().splitlines() if "/password/reset/" in line)
    token = link.rsplit("/", 1)[1]
    assert services.user_for_reset_token(token).id == user.id
    entry = db.session.scalar(db.select(AuditEntry).where(AuditEntry.action == "user.create"))
    assert entry.actor_id == admin.id and entry.target == "fresh@example.org"


def test_password_reset_mails_a_link_that_works_once(ctx, personas, smtp):
    services.request_password_reset("member@example.org", "10.0.0.1")
    [message] = smtp.wait_for(1)
    assert message["To"] == "member@example.org"
    token = message.get_content().split("/password/reset/")[1].split()[0]
    before = factories.user(personas.member.id).alternative_id

    user = services.reset_password(token, "Nowe-haslo-do-forum-2026")
    assert user.id == personas.member.id
    assert user.alternative_id != before  # every session ends
    assert services.authenticate("member@example.org", "Nowe-haslo-do-forum-2026", "10.0.0.1")
    with pytest.raises(InvalidInput) as error:
        services.reset_password(token, "Jeszcze-inne-haslo-2026")
    assert "already been used" in str(error.value.errors[""])


def test_password_reset_for_an_unknown_address_sends_nothing(ctx, personas, smtp):
    services.request_password_reset("nobody@example.org", "10.0.0.1")
    services.request_password_reset("inactive@example.org", "10.0.0.1")
    with pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=0.5)


def test_an_expired_reset_link_is_refused(app, personas):
    with app.app_context():
        token = services.make_reset_token(factories.user(personas.member.id))
    app.config["FORUM_PASSWORD_RESET_SECONDS"] = -1
    with app.app_context(), pytest.raises(InvalidInput) as error:
        services.user_for_reset_token(token)
    assert "expired" in str(error.value.errors[""])


def test_a_forged_reset_link_is_refused(ctx, personas):
    with pytest.raises(InvalidInput) as error:
        services.user_for_reset_token("eyJ1IjoyfQ.forged.signature")
    assert "not valid" in str(error.value.errors[""])


def test_change_password_checks_the_current_one_and_ends_other_sessions(ctx, personas):
    member = factories.user(personas.member.id)
    with pytest.raises(InvalidInput) as error:
        services.change_password(member, "wrong", "Nowe-haslo-do-forum-2026")
    assert "current_password" in error.value.errors
    before = member.alternative_id
    services.change_password(member, factories.PASSWORD, "Nowe-haslo-do-forum-2026")
    assert member.alternative_id != before


def test_deactivation_ends_sessions_and_is_audited(ctx, personas):
    admin, member = factories.user(personas.admin.id), factories.user(personas.member.id)
    before = member.alternative_id
    services.set_user_active(admin, member, False)
    assert not member.active and member.alternative_id != before
    assert db.session.scalar(
        db.select(AuditEntry).where(AuditEntry.action == "user.deactivate")
    ).target == "member@example.org"


def test_administrators_cannot_lock_themselves_out(ctx, personas):
    admin = factories.user(personas.admin.id)
    with pytest.raises(InvalidInput):
        services.set_user_active(admin, admin, False)
    with pytest.raises(InvalidInput):
        services.set_user_admin(admin, admin, False)


def test_profile_update_validates_and_saves(ctx, personas):
    member = factories.user(personas.member.id)
    with pytest.raises(InvalidInput) as error:
        services.update_profile(member, member, name="", organisation_id=999999, position="",
                                locale="xx", time_zone="Nowhere/City")
    assert set(error.value.errors) == {"name", "organisation_id", "locale", "time_zone"}
    services.update_profile(member, member, name="Jan K.", organisation_id=None,
                            position="dyrektor", locale="ca", time_zone="Europe/Madrid")
    assert (member.name, member.locale, member.time_zone) == ("Jan K.", "ca", "Europe/Madrid")


def test_nobody_edits_another_persons_profile(ctx, personas):
    member, moderator = factories.user(personas.member.id), factories.user(personas.moderator.id)
    with pytest.raises(NotFound):
        services.update_profile(member, moderator, name="Hacked", organisation_id=None,
                                position="", locale="", time_zone="")


def test_organisation_names_are_unique_case_insensitively(ctx, personas):
    with pytest.raises(InvalidInput) as error:
        services.create_organisation(None, name="miasto lublin", kind="city")
    assert "already exists" in str(error.value.errors["name"])
    with pytest.raises(InvalidInput) as error:
        services.create_organisation(None, name="Gmina Nowa", kind="planet")
    assert "kind" in error.value.errors
