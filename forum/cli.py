"""Operator commands: `flask --app wsgi forum <command>`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from forum import demo
from forum.accounts import services as accounts
from forum.accounts.services import ORGANISATION_KINDS
from forum.errors import InvalidInput
from forum.extensions import db
from forum.groups import services as groups
from forum.groups.models import Group, GroupKind, Role

ROLE_CHOICE = click.Choice([r.value for r in Role])


def _fail(error: InvalidInput) -> None:
    for field, message in error.errors.items():
        click.echo(f"error: {field + ': ' if field else ''}{message}", err=True)
    sys.exit(1)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def _user(email: str):
    user = accounts.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"no account uses {email}")
    return user


def _group(slug: str) -> Group:
    group = db.session.scalar(db.select(Group).where(Group.slug == slug))
    if group is None:
        raise click.ClickException(f"no group has the address {slug}")
    return group


@click.group("forum")
def forum_cli():
    """Administer the forum."""


@forum_cli.command("create-admin")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_admin(email, name, password_stdin):
    """Create an administrator account (the first step of a real installation)."""
    try:
        user = accounts.create_user(None, email=email, name=name,
                                    password=_read_password(password_stdin), is_admin=True)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"administrator {user.email} created")


@forum_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--organisation", default="", help="Name of an existing organisation.")
@click.option("--position", default="")
@with_appcontext
def create_user(email, name, organisation, position):
    """Create an account; the person is mailed a link to choose a password."""
    organisation_id = None
    if organisation:
        match = next((o for o in accounts.list_organisations() if o.name == organisation), None)
        if match is None:
            raise click.ClickException(f"no organisation is called {organisation}")
        organisation_id = match.id
    try:
        user = accounts.create_user(None, email=email, name=name,
                                    organisation_id=organisation_id, position=position)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"account {user.email} created; a password link was mailed")


@forum_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True)
@with_appcontext
def set_password(email, password_stdin):
    """Set an account's password (ends its sessions)."""
    user = _user(email)
    password = _read_password(password_stdin)
    try:
        accounts.check_password(password, hints=(user.email, user.name))
    except InvalidInput as error:
        _fail(error)
    user.password_hash = accounts.hash_password(password)
    accounts.end_all_sessions(user)
    click.echo("password changed")


@forum_cli.command("create-organisation")
@click.argument("name")
@click.option("--kind", type=click.Choice([k.value for k in ORGANISATION_KINDS]), required=True)
@click.option("--region", default="")
@with_appcontext
def create_organisation(name, kind, region):
    try:
        organisation = accounts.create_organisation(None, name=name, kind=kind, region=region)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"organisation {organisation.name} created")


@forum_cli.command("create-group")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--kind", type=click.Choice([k.value for k in GroupKind]), default="other")
@click.option("--description", default="")
@click.option("--time-zone", default="Europe/Warsaw")
@with_appcontext
def create_group(name, slug, kind, description, time_zone):
    try:
        group = groups.create_group(None, name=name, slug=slug, kind=kind,
                                    description=description, time_zone=time_zone)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"group {group.name} created at /g/{group.slug}/")


@forum_cli.command("set-role")
@click.argument("email")
@click.argument("slug")
@click.option("--role", type=ROLE_CHOICE, default="member")
@with_appcontext
def set_role(email, slug, role):
    """Add an account to a group, or change its role there."""
    groups.set_role(None, _group(slug), _user(email), role)
    click.echo(f"{email} is now {role} of {slug}")


@forum_cli.command("remove-member")
@click.argument("email")
@click.argument("slug")
@with_appcontext
def remove_member(email, slug):
    groups.remove_member(None, _group(slug), _user(email))
    click.echo(f"{email} removed from {slug}")


@forum_cli.command("invite")
@click.argument("email")
@click.argument("slug")
@click.option("--role", type=ROLE_CHOICE, default="member")
@with_appcontext
def invite(email, slug, role):
    """Mail an invitation to join a group; prints the link too."""
    from flask import current_app

    try:
        invitation, token = groups.invite(None, _group(slug), email, role)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"invitation sent to {invitation.email}: "
               f"{current_app.config['FORUM_BASE_URL']}/invitations/{token}")


@forum_cli.command("deactivate-user")
@click.argument("email")
@with_appcontext
def deactivate_user(email):
    accounts.set_user_active(None, _user(email), False)
    click.echo(f"{email} deactivated; its sessions have ended")


@forum_cli.command("activate-user")
@click.argument("email")
@with_appcontext
def activate_user(email):
    accounts.set_user_active(None, _user(email), True)
    click.echo(f"{email} reactivated")


@forum_cli.command("erase-user")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Confirm: the erasure cannot be undone.")
@with_appcontext
def erase_user(email, yes):
    """Erase an account (name, address, memberships; posts per group setting)."""
    from forum.privacy import erasure

    user = _user(email)
    if not yes:
        raise click.ClickException("erasing cannot be undone: add --yes to confirm")
    try:
        report = erasure.erase_user(None, user)
    except InvalidInput as error:
        _fail(error)
    click.echo(f"account {user.id} erased: {report.posts_kept} posts kept anonymised, "
               f"{report.posts_removed} removed; {report.messages_kept} chat messages kept, "
               f"{report.messages_removed} removed")


@forum_cli.command("reindex-search")
@click.option("--read-files", is_flag=True,
              help="Also read the text of PDF, ODT and DOCX files uploaded without it.")
@with_appcontext
def reindex_search(read_files):
    """Make the search text of every post, chat message and material again (after upgrading
    to a release that changes it: README "Search")."""
    from forum.search.index import reindex

    done = reindex(read_files=read_files)
    click.echo(f"search text made again: {done.posts} posts, {done.messages} chat messages, "
               f"{done.materials} materials ({done.files_read} files read)")


@forum_cli.command("seed-demo")
@with_appcontext
def seed_demo():
    """Load the demo data set into an empty database (never in production, never next to real
    accounts)."""
    try:
        empty = demo.check_can_seed()
    except demo.DemoRefused as refusal:
        click.echo(str(refusal), err=True)
        sys.exit(1)
    if not empty:
        click.echo("the demo data set is already loaded; nothing to do")
        return
    logins = demo.seed_demo()
    click.echo("demo data loaded. Sign in with any of these (password "
               f"{logins['password']}):")
    for email in logins["logins"]:
        click.echo(f"  {email}")


# --- e-mail: notifications, outbox, digests ------------------------------------------------


def _delivery_line(delivery) -> str:
    return (f"{delivery.sent} e-mail(s) sent, {delivery.retried} to retry later, "
            f"{delivery.failed} failed")


@forum_cli.command("send-mail")
@click.option("--loop", is_flag=True,
              help="Keep running: a round every FORUM_MAIL_POLL_SECONDS (Ctrl+C stops).")
@with_appcontext
def send_mail_command(loop):
    """Queue due notification e-mails, then send what the outbox holds."""
    import time

    from flask import current_app

    from forum.mailings.worker import run_once

    while True:
        try:
            batch, delivery = run_once()
        except Exception:
            db.session.rollback()
            if not loop:
                raise
            current_app.logger.exception("send-mail round failed; trying again")
        else:
            if not loop or batch.emails or delivery.total:
                click.echo(f"{batch.emails} notification e-mail(s) queued; "
                           f"{_delivery_line(delivery)}")
        finally:
            db.session.remove()
        if not loop:
            return
        try:
            time.sleep(current_app.config["FORUM_MAIL_POLL_SECONDS"])
        except KeyboardInterrupt:
            click.echo("stopped")
            return


@forum_cli.command("send-digests")
@click.option("--group", "slug", default=None, help="Only this group (its address).")
@click.option("--dry-run", is_flag=True, help="Count what would be sent; change nothing.")
@click.option("--no-send", is_flag=True, help="Only queue; leave sending to the mail worker.")
@with_appcontext
def send_digests(slug, dry_run, no_send):
    """E-mail each member the digest since their group's latest concluded session (meant
    for cron; safe to run twice: one digest per member, group, session and week)."""
    from datetime import timedelta

    from forum.mailings import digest
    from forum.notifications import locks
    from forum.notifications.outbox import deliver_all

    groups = [_group(slug)] if slug else list(db.session.scalars(
        db.select(Group).order_by(Group.slug)))
    holder = None
    if not dry_run:
        try:
            holder = locks.acquire("send-digests", timedelta(minutes=30))
        except locks.LockHeld as held:
            click.echo(f"error: another digest run is in progress since "
                       f"{held.since:%Y-%m-%d %H:%M:%S} UTC ({held.holder}); it "
                       f"expires at {held.expires_at:%Y-%m-%d %H:%M:%S} UTC. "
                       "Try again later.", err=True)
            sys.exit(1)
    try:
        report = digest.queue_digests(groups, dry_run=dry_run)
    finally:
        if holder:
            locks.release("send-digests", holder)
    for slug_ in report.no_workshop:
        click.echo(f"{slug_}: no concluded session yet")
    verb = "would be queued" if dry_run else "queued"
    click.echo(f"{report.queued} digest(s) {verb}; {report.skipped} skipped "
               f"({report.already} already sent this week, {report.nothing_new} with "
               "nothing new)")
    if not dry_run and not no_send and report.queued:
        click.echo(_delivery_line(deliver_all()))


@forum_cli.command("apply-retention")
@click.option("--dry-run", is_flag=True, help="Print what would be removed; change nothing.")
@with_appcontext
def apply_retention_command(dry_run):
    """Delete what is older than its retention period (FORUM_RETAIN_*; meant for a daily
    timer; safe to run twice)."""
    from forum.notifications.locks import LockHeld
    from forum.privacy.retention import apply_retention

    try:
        report = apply_retention(dry_run=dry_run)
    except LockHeld as held:
        click.echo(f"error: another retention run is in progress since "
                   f"{held.since:%Y-%m-%d %H:%M:%S} UTC ({held.holder}); it expires at "
                   f"{held.expires_at:%Y-%m-%d %H:%M:%S} UTC. Try again later.", err=True)
        sys.exit(1)
    for line in report.lines():
        click.echo(line)


@forum_cli.command("build-exports")
@with_appcontext
def build_exports_command():
    """Build the personal data exports people asked for (one round; the mail worker does the
    same in the background), then send their e-mails."""
    from forum.notifications.outbox import deliver_all
    from forum.privacy.export import build_all_due

    report = build_all_due()
    click.echo(f"{report.built} data export(s) built, {report.retried} to retry later, "
               f"{report.failed} failed")
    if report.built:
        click.echo(_delivery_line(deliver_all()))
    if report.failed:
        sys.exit(1)


# --- backup, restore, storage check (forum/backup.py) -------------------------------------
from forum.backup import COMMANDS as _BACKUP_COMMANDS  # noqa: E402

for _command in _BACKUP_COMMANDS:
    forum_cli.add_command(_command)
