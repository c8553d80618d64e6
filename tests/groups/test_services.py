from datetime import timedelta

import pytest

from forum.accounts.models import Organisation
from forum.audit.models import AuditEntry
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.events import after_commit
from forum.extensions import db
from forum.groups import services
from forum.groups.models import Invitation, Membership
from forum.timeutil import utcnow
from tests import factories


def _token_from(message) -> str:
    return message.get_content().split("/invitations/")[1].split()[0]


@pytest.mark.parametrize("who", ["member", "observer", "moderator", "admin"])
def test_members_and_administrators_see_the_group(ctx, personas, who):
    actor = factories.user(getattr(personas, who).id)
    assert services.get_group_for(actor, personas.g1.slug).id == personas.g1.id


@pytest.mark.parametrize("slug", ["miasta-testowe", "no-such-group"])
def test_outsiders_get_not_found_for_closed_and_missing_groups(ctx, personas, slug):
    with pytest.raises(NotFound):
        services.get_group_for(factories.user(personas.outsider.id), slug)


def test_my_groups_list_only_mine_with_role_and_member_count(ctx, personas):
    [summary] = services.list_groups_for(factories.user(personas.member.id))
    assert (summary.group.slug, summary.role, summary.member_count) == (
        personas.g1.slug, "member", 4)


def test_member_list_leaves_out_deactivated_accounts(ctx, personas):
    members = services.list_members(factories.user(personas.member.id),
                                    factories.group(personas.g1.id))
    assert {m.user.email for m in members} == {
        "moderator@example.org", "member@example.org", "observer@example.org"}


def test_create_group_validates_the_address(ctx, personas):
    admin = factories.user(personas.admin.id)
    with pytest.raises(InvalidInput) as error:
        services.create_group(admin, name="", slug="Bad Slug!", kind="planet", time_zone="X/Y")
    assert set(error.value.errors) == {"name", "slug", "kind", "time_zone"}
    with pytest.raises(InvalidInput) as error:
        services.create_group(admin, name="Kopia", slug=personas.g1.slug)
    assert "already uses" in str(error.value.errors["slug"])
    group = services.create_group(admin, name="Szkoły", slug="Szkoly-2026", kind="schools")
    assert group.slug == "szkoly-2026"


def test_only_administrators_create_groups_and_set_roles(ctx, personas):
    moderator = factories.user(personas.moderator.id)
    with pytest.raises(PermissionDenied):
        services.create_group(moderator, name="X", slug="x")
    with pytest.raises(PermissionDenied):
        services.set_role(moderator, factories.group(personas.g1.id),
                          factories.user(personas.outsider.id), "member")


def test_set_role_adds_then_changes_and_is_audited(ctx, personas):
    admin, outsider = factories.user(personas.admin.id), factories.user(personas.outsider.id)
    g1 = factories.group(personas.g1.id)
    with pytest.raises(NotFound):
        services.get_group_for(outsider, g1.slug)
    services.set_role(admin, g1, outsider, "observer")
    assert services.get_group_for(outsider, g1.slug)  # takes effect at once
    services.set_role(admin, g1, outsider, "moderator")
    assert db.session.scalar(db.select(Membership.role).where(
        Membership.user_id == outsider.id, Membership.group_id == g1.id)) == "moderator"
    actions = db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["membership.add", "membership.role"]
    with pytest.raises(InvalidInput):
        services.set_role(admin, g1, outsider, "owner")


def test_removing_a_member_closes_the_group_to_them(ctx, personas):
    admin, member = factories.user(personas.admin.id), factories.user(personas.member.id)
    g1 = factories.group(personas.g1.id)
    services.remove_member(admin, g1, member)
    with pytest.raises(NotFound):
        services.get_group_for(member, g1.slug)
    with pytest.raises(NotFound):
        services.remove_member(admin, g1, member)


def test_an_invitation_is_mailed_after_commit_with_a_working_link(ctx, personas, smtp):
    admin = factories.user(personas.admin.id)
    invitation, token = services.invite(admin, factories.group(personas.g1.id),
                                        "Nowa.Osoba@Example.org", "observer")
    [message] = smtp.wait_for(1)
    assert message["To"] == "nowa.osoba@example.org"
    assert personas.g1.name in message["Subject"]
    assert _token_from(message) == token
    assert invitation.token_hash != token  # only a hash is stored
    assert services.open_invitation(token).id == invitation.id


def test_a_new_invitation_replaces_the_open_one(ctx, personas, smtp):
    admin, g1 = factories.user(personas.admin.id), factories.group(personas.g1.id)
    _, first = services.invite(admin, g1, "new@example.org")
    _, second = services.invite(admin, g1, "new@example.org", "moderator")
    with pytest.raises(InvalidInput, match="withdrawn"):
        services.open_invitation(first)
    assert services.open_invitation(second).role == "moderator"


def test_inviting_a_member_again_is_refused(ctx, personas, smtp):
    with pytest.raises(InvalidInput) as error:
        services.invite(factories.user(personas.admin.id), factories.group(personas.g1.id),
                        "member@example.org")
    assert "already a member" in str(error.value.errors["email"])
    with pytest.raises(TimeoutError):
        smtp.wait_for(1, timeout=0.3)


def test_accepting_with_a_new_account_joins_the_group(ctx, personas, smtp):
    _, token = services.invite(factories.user(personas.admin.id),
                               factories.group(personas.g1.id), "new@example.org", "observer")
    with pytest.raises(InvalidInput) as error:
        services.accept_invitation_with_new_account(token, name="", password="password1234",
                                                    organisation_id=None, position="",
                                                    locale="")
    assert set(error.value.errors) == {"name", "password"}
    user = services.accept_invitation_with_new_account(
        token, name="Nowa Osoba", password="Zupa-pomidorowa-w-Lublinie",
        organisation_id=personas.organisation_id, position="dyrektorka", locale="pl")
    assert user.email == "new@example.org"
    assert services.get_group_for(user, personas.g1.slug)
    with pytest.raises(InvalidInput, match="already been used"):
        services.open_invitation(token)


def test_an_existing_account_accepts_only_its_own_invitation(ctx, personas, smtp):
    admin, g2 = factories.user(personas.admin.id), factories.group(personas.g2.id)
    _, token = services.invite(admin, g2, "member@example.org")
    with pytest.raises(InvalidInput, match="another e-mail address"):
        services.accept_invitation(factories.user(personas.moderator.id), token)
    member = factories.user(personas.member.id)
    assert services.accept_invitation(member, token).id == g2.id
    assert services.get_group_for(member, g2.slug)


def test_expired_and_unknown_invitations_are_refused(ctx, personas, smtp):
    _, token = services.invite(factories.user(personas.admin.id),
                               factories.group(personas.g1.id), "late@example.org")
    invitation = db.session.scalar(db.select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(InvalidInput, match="expired"):
        services.open_invitation(token)
    with pytest.raises(InvalidInput, match="not valid"):
        services.open_invitation("made-up-token")


def test_revoked_invitations_are_refused_and_listed_no_more(ctx, personas, smtp):
    admin, g1 = factories.user(personas.admin.id), factories.group(personas.g1.id)
    invitation, token = services.invite(admin, g1, "new@example.org")
    assert services.list_open_invitations(admin, g1) == [invitation]
    services.revoke_invitation(admin, invitation)
    assert services.list_open_invitations(admin, g1) == []
    with pytest.raises(InvalidInput, match="withdrawn"):
        services.open_invitation(token)


def test_after_commit_work_is_dropped_on_rollback(ctx):
    done = []
    after_commit(lambda: done.append("rolled back"))
    db.session.rollback()
    db.session.commit()
    after_commit(lambda: done.append("committed"))
    db.session.commit()
    assert done == ["committed"]


def test_the_invitation_says_who_invites_to_which_group(ctx, personas, smtp):
    admin = factories.user(personas.admin.id)
    admin.organisation = db.session.get(Organisation, personas.organisation_id)
    db.session.commit()
    services.invite(admin, factories.group(personas.g1.id), "kto@example.org")
    [message] = smtp.wait_for(1)
    assert message["Subject"] == f"Ada Admin invites you to the exchange group {personas.g1.name}"
    body = message.get_content()
    assert f"Ada Admin (Miasto Lublin) invites you to the exchange group {personas.g1.name}" \
        in body
