"""Background tasks of the platform (run by ``q2c worker``)."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django_tasks import task


@task()
def send_email(
    subject: str, body: str, to: list[str], attachments: list[tuple[str, str, str]] | None = None
) -> int:
    """Send one email; attachments are (filename, base64 content, mimetype)."""
    import base64

    message = EmailMessage(subject=subject, body=body, to=to)
    for name, content, mimetype in attachments or []:
        message.attach(name, base64.b64decode(content), mimetype)
    return message.send()
