"""Outgoing e-mail through a real SMTP client.

With `MAIL_OUTBOX` set (development), messages are written there as .eml files and logged
instead, so the demo works without a mail server.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, body: str) -> EmailMessage:
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=config["MAIL_SENDER"].rpartition("@")[2] or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send_mail(to: str, subject: str, body: str) -> None:
    message = build_message(to, subject, body)
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
