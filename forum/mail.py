"""Outgoing e-mail through a real SMTP client.

With `MAIL_OUTBOX` set (development), messages are written there as .eml files and logged
instead, so the demo works without a mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)

# Header lines up to RFC 5322's limit of 998 characters: folded at 78, a header that is one
# long word (the List-Unsubscribe address) was RFC 2047-encoded, and mail programs then could
# not read it for one-click unsubscribe (RFC 2369/8058, issue 19).
MAIL_POLICY = policy.default.clone(max_line_length=998)


def build_message(to: str, subject: str, body: str, *, html: str = "",
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """A plain-text message, with an HTML alternative when `html` is given.

    `headers` are set as given and win over the defaults: the outbox passes a fixed
    Message-ID (the same on every retry) and List-Unsubscribe headers."""
    config = current_app.config
    headers = dict(headers or {})
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = headers.pop("Message-ID", None) or make_msgid(
        domain=config["MAIL_SENDER"].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    for name, value in headers.items():
        del message[name]
        message[name] = value
    message.set_content(body)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def send_mail(to: str, subject: str, body: str, *, html: str = "",
              headers: dict[str, str] | None = None) -> None:
    """Send now (raises on failure: smtplib.SMTPException, OSError). Background e-mail goes
    through forum.notifications.outbox, which calls this and retries."""
    message = build_message(to, subject, body, html=html, headers=headers)
    config = current_app.config
    if config["MAIL_OUTBOX"]:
        outbox = Path(config["MAIL_OUTBOX"])
        outbox.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_").replace("/", "_")
        path = outbox / f"{name}.eml"
        path.write_bytes(bytes(message))
        log.info("e-mail to %s written to %s: %s\n%s", to, path, subject, body)
        return

    security = config["MAIL_SECURITY"]
    host, port = config["MAIL_HOST"], config["MAIL_PORT"]
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if security == "ssl" else smtplib.SMTP
    kwargs = {"context": context} if security == "ssl" else {}
    with smtp_class(host, port, timeout=30, **kwargs) as smtp:
        if security == "starttls":
            smtp.starttls(context=context)
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
    log.info("e-mail sent to %s: %s", to, subject)
