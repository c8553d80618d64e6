"""Every rule of the good-practice library: who sees a practice (its group always; every group
of the programme once it is published, read-only), proposing it with its tags and contact
person, publishing or sending it back (moderators, audited), the library's search and filters,
writing to the contact person through the forum, and "we adopted this"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from forum.accounts.models import OrganisationKind, User
from forum.audit.services import record_audit
from forum.errors import InvalidInput, NotFound, PermissionDenied
from forum.extensions import db
from forum.groups.models import Group, Membership, Role
from forum.groups.policy import (
    can_moderate_group,
    can_participate,
    can_view_group,
    is_admin,
    is_signed_in,
    roles_of,
)
from forum.library.models import (
    ListingStatus,
    PracticeAdoption,
    PracticeConversation,
    PracticeListing,
    PracticeMessage,
    PracticeTag,
    TagKind,
)
from forum.materials.models import Material, MaterialKind
from forum.notifications.inbox import notify
from forum.text import fold, render_markdown
from forum.timeutil import utcnow

MAX_TAG = 80
MAX_THEMES = 6
MAX_NOTE = 2000
MAX_MESSAGE = 5000
PAGE_SIZE = 50
CONTACT_KIND = "practice_contact"
_QUERY_WORD = re.compile(r"[^\W_]+")

STATUSES = {
    ListingStatus.DRAFT: _l("Draft: only the group sees it"),
    ListingStatus.PROPOSED: _l("Proposed for publication"),
    ListingStatus.PUBLISHED: _l("Published in the library"),
}
LG_TYPES = {
    OrganisationKind.RURAL_COMMUNE: _l("Rural commune"),
    OrganisationKind.URBAN_RURAL_COMMUNE: _l("Urban-rural commune"),
    OrganisationKind.CITY: _l("City"),
    OrganisationKind.COUNTY: _l("County"),
    OrganisationKind.SCHOOL: _l("School"),
}


# --- who sees what ---------------------------------------------------------------------------


def in_programme(actor) -> bool:
    """Someone of the programme: a member of any group (or an administrator)."""
    return is_admin(actor) or bool(roles_of(actor))


def listing_of(material: Material) -> PracticeListing | None:
    return db.session.get(PracticeListing, material.id)


def is_published(material: Material) -> bool:
    listing = listing_of(material)
    return listing is not None and listing.status == ListingStatus.PUBLISHED


def can_see(actor, material: Material) -> bool:
    if not is_signed_in(actor) or material.deleted_at is not None:
        return False
    return can_view_group(actor, material.group) or (in_programme(actor)
                                                      and is_published(material))


def get_practice_for(actor, material_id: int) -> Material:
    """The good practice if the actor may see it: its group's members always, everyone of the
    programme once published; NotFound for missing and hidden alike."""
    material = db.session.get(Material, material_id)
    if (material is None or material.kind != MaterialKind.GOOD_PRACTICE
            or material.good_practice is None or not can_see(actor, material)):
        raise NotFound()
    return material


def can_propose(actor, material: Material) -> bool:
    """Tag and propose for publication: members and moderators of its group."""
    return can_participate(actor, material.group)


def can_publish(actor, material: Material) -> bool:
    return can_moderate_group(actor, material.group)


# --- proposing and publishing ----------------------------------------------------------------


@dataclass
class ListingInput:
    themes: str = ""  # comma-separated
    lg_types: list[str] = field(default_factory=list)
    regions: str = ""  # comma-separated
    contact_user_id: int | None = None


def contact_choices(material: Material) -> list[User]:
    """Who can be the contact person: active members of the practice's group."""
    return list(db.session.scalars(
        db.select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.group_id == material.group_id, User.active.is_(True),
               Membership.role.in_([Role.MEMBER, Role.MODERATOR]))
        .order_by(User.name)))


def _split(text: str) -> list[str]:
    seen: dict[str, str] = {}
    for part in text.split(","):
        value = " ".join(part.split())
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return list(seen.values())


def default_input(material: Material) -> ListingInput:
    """What the form starts with: the saved listing, else the contact organisation's type
    and region and the person who shared the practice."""
    listing = listing_of(material)
    if listing is not None:
        by_kind: dict[str, list[str]] = {}
        for tag in listing.tags:
            by_kind.setdefault(tag.kind, []).append(tag.value)
        return ListingInput(themes=", ".join(by_kind.get(TagKind.THEME, [])),
                            lg_types=by_kind.get(TagKind.LG_TYPE, []),
                            regions=", ".join(by_kind.get(TagKind.REGION, [])),
                            contact_user_id=listing.contact_user_id)
    organisation = material.good_practice.contact_organisation
    return ListingInput(
        lg_types=[organisation.kind] if organisation and organisation.kind in LG_TYPES else [],
        regions=organisation.region if organisation else "",
        contact_user_id=material.uploaded_by_id)


def propose(actor, material: Material, data: ListingInput) -> PracticeListing:
    """Save the tags and contact person and propose the practice for publication (again,
    after a moderator sent it back). A published practice keeps its place: only the tags and
    contact person change."""
    if not can_see(actor, material) or not can_view_group(actor, material.group):
        raise NotFound()
    if not can_propose(actor, material):
        raise PermissionDenied()
    errors: dict[str, str] = {}
    themes, regions = _split(data.themes), _split(data.regions)
    if not themes:
        errors["themes"] = _l("Give at least one theme.")
    elif len(themes) > MAX_THEMES or any(len(t) > MAX_TAG for t in themes):
        errors["themes"] = _l("At most %(n)d themes of %(chars)d characters.", n=MAX_THEMES,
                              chars=MAX_TAG)
    if any(len(r) > MAX_TAG for r in regions) or len(regions) > MAX_THEMES:
        errors["regions"] = _l("At most %(n)d regions of %(chars)d characters.",
                               n=MAX_THEMES, chars=MAX_TAG)
    lg_types = [t for t in dict.fromkeys(data.lg_types) if t in LG_TYPES]
    if len(lg_types) != len(set(data.lg_types)):
        errors["lg_types"] = _l("Choose among the types listed.")
    if data.contact_user_id not in {u.id for u in contact_choices(material)}:
        errors["contact_user_id"] = _l("Choose the contact person among the group's members.")
    if errors:
        raise InvalidInput(errors)
    listing = listing_of(material) or PracticeListing(material_id=material.id)
    wanted = ([(TagKind.THEME, t) for t in themes] + [(TagKind.LG_TYPE, t) for t in lg_types]
              + [(TagKind.REGION, r) for r in regions])
    # Keep the tags that stay (a new row with the same value would meet the old one's unique
    # key before the old one is deleted), drop the others, add the new ones.
    kept = [tag for tag in listing.tags if (tag.kind, tag.value) in wanted]
    known = {(tag.kind, tag.value) for tag in kept}
    listing.tags = kept + [PracticeTag(kind=kind, value=value) for kind, value in wanted
                           if (kind, value) not in known]
    listing.contact_user_id = data.contact_user_id
    listing.updated_at = utcnow()
    if listing.status != ListingStatus.PUBLISHED:
        listing.status = ListingStatus.PROPOSED
        listing.proposed_by_id, listing.proposed_at = actor.id, utcnow()
        listing.review_note = ""
    db.session.add(listing)
    db.session.flush()
    record_audit(actor, "practice.propose", group=material.group, target=material.title,
                 subject=material, details={"status": listing.status})
    db.session.commit()
    return listing


def publish(actor, material: Material) -> PracticeListing:
    if not can_view_group(actor, material.group):
        raise NotFound()
    if not can_publish(actor, material):
        raise PermissionDenied()
    listing = listing_of(material)
    if listing is None or listing.status != ListingStatus.PROPOSED:
        raise InvalidInput({"": _l("Only a practice proposed for publication can be "
                                   "published.")})
    listing.status = ListingStatus.PUBLISHED
    listing.published_by_id, listing.published_at = actor.id, utcnow()
    record_audit(actor, "practice.publish", group=material.group, target=material.title,
                 subject=material)
    db.session.commit()
    return listing


def send_back(actor, material: Material, note: str) -> PracticeListing:
    """A proposal goes back to draft, or a published practice leaves the library, with a
    note to whoever proposed it."""
    if not can_view_group(actor, material.group):
        raise NotFound()
    if not can_publish(actor, material):
        raise PermissionDenied()
    listing = listing_of(material)
    if listing is None or listing.status == ListingStatus.DRAFT:
        raise InvalidInput({"": _l("This practice is a draft already.")})
    note = note.strip()
    if not note:
        raise InvalidInput({"note": _l("Say why, for whoever proposed it.")})
    if len(note) > MAX_NOTE:
        raise InvalidInput({"note": _l("At most %(n)d characters.", n=MAX_NOTE)})
    was = listing.status
    listing.status, listing.review_note = ListingStatus.DRAFT, note
    listing.published_at = listing.published_by_id = None
    record_audit(actor, "practice.unpublish" if was == ListingStatus.PUBLISHED
                 else "practice.send_back", group=material.group, target=material.title,
                 subject=material, reason=note)
    db.session.commit()
    return listing


# --- the library -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LibraryFilters:
    query: str = ""
    theme: str = ""
    lg_type: str = ""
    region: str = ""
    group: str = ""  # a group's slug


@dataclass(frozen=True)
class LibraryEntry:
    material: Material
    listing: PracticeListing
    adoptions: int


def library(actor, filters: LibraryFilters = LibraryFilters(), *,
            limit: int = PAGE_SIZE) -> list[LibraryEntry]:
    """The published practices of every group, newest first, narrowed by the filters; each
    query word must begin a word of the practice's text (title, write-up, tags)."""
    if not in_programme(actor):
        return []
    adoptions = (db.select(func.count(PracticeAdoption.id))
                 .where(PracticeAdoption.material_id == Material.id).scalar_subquery())
    statement = (db.select(Material, PracticeListing, adoptions)
                 .join(PracticeListing, PracticeListing.material_id == Material.id)
                 .where(PracticeListing.status == ListingStatus.PUBLISHED,
                        Material.deleted_at.is_(None))
                 .options(selectinload(Material.good_practice), selectinload(Material.group))
                 .order_by(PracticeListing.published_at.desc(), Material.id.desc()))
    for kind, value in ((TagKind.THEME, filters.theme), (TagKind.LG_TYPE, filters.lg_type),
                        (TagKind.REGION, filters.region)):
        if value:
            statement = statement.where(db.select(PracticeTag.id).where(
                PracticeTag.material_id == Material.id, PracticeTag.kind == kind,
                func.lower(PracticeTag.value) == value.lower()).exists())
    if filters.group:
        statement = statement.join(Group, Group.id == Material.group_id).where(
            Group.slug == filters.group)
    for word in _QUERY_WORD.findall(fold(filters.query))[:10]:
        # search_text holds the folded text and the words' other forms (forum.searchtext);
        # the library is small: a plain scan of the published practices.
        statement = statement.where(Material.search_text.contains(word, autoescape=True))
    return [LibraryEntry(material, listing, count or 0)
            for material, listing, count in db.session.execute(statement.limit(limit))]


def tag_values(kind: str) -> list[str]:
    """The values of a kind of tag among published practices (the filters' choices)."""
    return list(db.session.scalars(
        db.select(PracticeTag.value).join(
            PracticeListing, PracticeListing.material_id == PracticeTag.material_id)
        .where(PracticeTag.kind == kind, PracticeListing.status == ListingStatus.PUBLISHED)
        .distinct().order_by(PracticeTag.value)))


def published_since(actor, since: datetime, limit: int = 20) -> list[Material]:
    """Practices published in the library since a moment (the digest)."""
    return list(db.session.scalars(
        db.select(Material).join(PracticeListing, PracticeListing.material_id == Material.id)
        .where(PracticeListing.status == ListingStatus.PUBLISHED,
               PracticeListing.published_at >= since, Material.deleted_at.is_(None))
        .order_by(PracticeListing.published_at.desc()).limit(limit)))


def waiting_for_publication(actor) -> list[Material]:
    """Proposals the actor may publish (a moderator's to-do)."""
    groups = [g for g, role in roles_of(actor).items() if role == Role.MODERATOR]
    statement = (db.select(Material)
                 .join(PracticeListing, PracticeListing.material_id == Material.id)
                 .where(PracticeListing.status == ListingStatus.PROPOSED,
                        Material.deleted_at.is_(None)))
    if not is_admin(actor):
        if not groups:
            return []
        statement = statement.where(Material.group_id.in_(groups))
    return list(db.session.scalars(statement.order_by(PracticeListing.proposed_at)))


# --- adoptions -------------------------------------------------------------------------------


def adoptions_of(material: Material) -> list[PracticeAdoption]:
    return list(db.session.scalars(db.select(PracticeAdoption)
                                   .where(PracticeAdoption.material_id == material.id)
                                   .order_by(PracticeAdoption.created_at)))


def can_adopt(actor, material: Material) -> bool:
    return (can_see(actor, material) and in_programme(actor)
            and getattr(actor, "organisation_id", None) is not None)


def record_adoption(actor, material: Material, note: str) -> PracticeAdoption:
    """"We adopted this", for the actor's organisation (once; a second time updates the
    note)."""
    if not can_see(actor, material):
        raise NotFound()
    if not can_adopt(actor, material):
        raise PermissionDenied()
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput({"note": _l("At most %(n)d characters.", n=MAX_NOTE)})
    adoption = db.session.scalar(db.select(PracticeAdoption).where(
        PracticeAdoption.material_id == material.id,
        PracticeAdoption.organisation_id == actor.organisation_id))
    if adoption is None:
        adoption = PracticeAdoption(material_id=material.id,
                                    organisation_id=actor.organisation_id)
        db.session.add(adoption)
    adoption.note, adoption.recorded_by_id = note, actor.id
    try:
        db.session.commit()
    except IntegrityError:  # a colleague recorded it at the same moment: theirs stays
        db.session.rollback()
        raise InvalidInput({"note": _l("A colleague recorded your organisation's adoption "
                                       "meanwhile.")}) from None
    return adoption


def withdraw_adoption(actor, material: Material) -> None:
    if not can_see(actor, material):
        raise NotFound()
    if not can_adopt(actor, material):
        raise PermissionDenied()
    db.session.execute(db.delete(PracticeAdoption).where(
        PracticeAdoption.material_id == material.id,
        PracticeAdoption.organisation_id == actor.organisation_id))
    db.session.commit()


# --- writing to the contact person -----------------------------------------------------------


def contact_person(material: Material) -> User | None:
    listing = listing_of(material)
    person = listing.contact_user if listing is not None else None
    return person if person is not None and person.active else None


def can_contact(actor, material: Material) -> bool:
    person = contact_person(material)
    return (person is not None and can_see(actor, material) and in_programme(actor)
            and person.id != actor.id)


def get_conversation_for(actor, conversation_id: int) -> PracticeConversation:
    conversation = db.session.get(PracticeConversation, conversation_id)
    if conversation is None or getattr(actor, "id", None) not in (conversation.requester_id,
                                                                  conversation.contact_id):
        raise NotFound()
    return conversation


def my_conversations(actor) -> list[PracticeConversation]:
    return list(db.session.scalars(
        db.select(PracticeConversation)
        .where(or_(PracticeConversation.requester_id == actor.id,
                   PracticeConversation.contact_id == actor.id))
        .order_by(PracticeConversation.last_message_at.desc())))


def _check_message(body: str) -> str:
    body = body.strip()
    if not body:
        raise InvalidInput({"body": _l("Write your message.")})
    if len(body) > MAX_MESSAGE:
        raise InvalidInput({"body": _l("At most %(n)d characters.", n=MAX_MESSAGE)})
    return body


def _add_message(actor, conversation: PracticeConversation, body: str) -> PracticeMessage:
    now = utcnow()
    message = PracticeMessage(conversation_id=conversation.id, author_id=actor.id, body=body,
                              body_html=render_markdown(body), created_at=now)
    db.session.add(message)
    conversation.last_message_at = now
    other = (conversation.contact_id if actor.id == conversation.requester_id
             else conversation.requester_id)
    notify(other, CONTACT_KIND, actor_id=actor.id, text=str(conversation.id))
    return message


def contact(actor, material: Material, body: str) -> PracticeConversation:
    """Write to the practice's contact person: the first message starts the conversation,
    later ones continue it. The contact person is notified (and mailed, as their settings
    say); no e-mail address is shown to either."""
    if not can_see(actor, material):
        raise NotFound()
    if not can_contact(actor, material):
        raise PermissionDenied()
    body = _check_message(body)
    conversation = db.session.scalar(db.select(PracticeConversation).where(
        PracticeConversation.material_id == material.id,
        PracticeConversation.requester_id == actor.id))
    if conversation is None:
        conversation = PracticeConversation(material_id=material.id, requester_id=actor.id,
                                            contact_id=contact_person(material).id)
        db.session.add(conversation)
        db.session.flush()
    _add_message(actor, conversation, body)
    db.session.commit()
    return conversation


def reply(actor, conversation: PracticeConversation, body: str) -> PracticeMessage:
    get_conversation_for(actor, conversation.id)
    message = _add_message(actor, conversation, _check_message(body))
    db.session.commit()
    return message


def contacted_conversation(notification) -> PracticeConversation | None:
    if notification.kind != CONTACT_KIND or not notification.text.isdigit():
        return None
    return db.session.get(PracticeConversation, int(notification.text))


def contact_url(actor, notification) -> str | None:
    conversation = contacted_conversation(notification)
    if conversation is None or actor.id not in (conversation.requester_id,
                                                conversation.contact_id):
        return None
    return url_for("library.conversation", conversation_id=conversation.id)


def practice_visible_ids_clause(group_ids_param):
    """For search: a material is visible in the actor's groups or when published."""
    published = db.select(PracticeListing.material_id).where(
        PracticeListing.status == ListingStatus.PUBLISHED)
    return or_(Material.group_id.in_(group_ids_param), Material.id.in_(published))


