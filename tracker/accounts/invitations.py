"""Invitations: an admin emails a reviewer the one-time link that sets their first password.

The link is the setup link of `tracker up` (`tracker.accounts.links.setup_token`), not a
second mechanism. Each invitation moves the reviewer's session epoch on, so only the
newest link works; setting the password ends them all. A reviewer who already has a
password is not invited (they sign in, and change it in their settings).
"""

from __future__ import annotations

import datetime as dt

from jinja2 import Environment
from sqlalchemy.orm import Session

from tracker.accounts.links import SETUP_MAX_AGE
from tracker.accounts.passwords import credential
from tracker.channels import Channel, Message, make_channel
from tracker.config import Settings
from tracker.errors import TrackerError
from tracker.models import Reviewer


def new_invitation(session: Session, reviewer: Reviewer) -> int:
    """Move the reviewer's epoch on (ending earlier invitations) and return it for the new link."""
    cred = credential(session, reviewer)
    if cred.password_hash:
        raise TrackerError(f"{reviewer.handle} already has a password: they can sign in")
    cred.session_epoch += 1
    session.flush()
    return cred.session_epoch


def invitation_channel(settings: Settings) -> Channel:
    """Email when a mail server is configured; else the console channel, when that is the one in use.

    Never the Slack webhook: a link that sets someone's password must reach only them.
    """
    if settings.smtp.host:
        return make_channel(settings, kind="smtp")
    if settings.reminders.channel == "console":
        return make_channel(settings, kind="console")
    raise TrackerError("invitations are sent by email: set TRACKER_SMTP_HOST (host in [smtp])")


def invitation_message(
    templates: Environment, reviewer: Reviewer, epoch: int, link: str, inviter: str, now: dt.datetime
) -> Message:
    """The invitation email to `reviewer`, holding `link`."""
    days = SETUP_MAX_AGE // (24 * 3600)
    text = templates.get_template("emails/invitation.txt").render(
        name=reviewer.name, handle=reviewer.handle, link=link, inviter=inviter, days=days
    )
    stamp = now.strftime("%Y%m%d%H%M%S")
    return Message(
        message_id=f"<invite-{reviewer.id}-{epoch}-{stamp}@tracker>",
        to_address=reviewer.email,
        to_name=reviewer.name,
        subject="Your invitation to tracker: set your password",
        text=text,
    )
