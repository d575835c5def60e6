"""Background work of dunning (run by ``q2c worker``), enqueued after the job's transaction commits.

:func:`send_reminder` e-mails the document a dunning step logged (subject and text as stored in
the log, so what was sent is what the log shows); a failure is kept on the entry (attempts, last
error) and retried up to :data:`MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from django.db.models import F
from django_tasks import task

from q2c.core import clock
from q2c.parties.models import LegalEntity
from q2c.payments.dunning.models import DunningEntry

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


@task()
def send_reminder(entry_id: int) -> str:
    """Send one logged dunning e-mail; idempotent once sent."""
    entry = DunningEntry.objects.filter(pk=entry_id).first()
    if entry is None or entry.mail != DunningEntry.Mail.QUEUED or not entry.email_to:
        return "nothing to do"
    sender = LegalEntity.objects.filter(pk=entry.entity_id).values_list("email", flat=True).first() or None
    try:
        EmailMessage(subject=entry.subject, body=entry.body, from_email=sender, to=[entry.email_to]).send()
    except Exception as exc:  # the mail server's failure is logged on the entry and retried
        failed = entry.mail_attempts + 1 >= MAX_ATTEMPTS
        DunningEntry.objects.filter(pk=entry.pk).update(
            mail_attempts=F("mail_attempts") + 1,
            mail_error=str(exc)[:2000],
            mail=DunningEntry.Mail.FAILED if failed else DunningEntry.Mail.QUEUED,
        )
        log.warning("dunning e-mail %s not sent: %s", entry.pk, exc)
        if not failed:
            send_reminder.enqueue(entry.pk)
        return "failed" if failed else "retrying"
    DunningEntry.objects.filter(pk=entry.pk).update(
        mail=DunningEntry.Mail.SENT, mail_attempts=F("mail_attempts") + 1, mail_error="", sent_at=clock.now()
    )
    return "sent"


@task()
def send_new_method_request(retry_id: int) -> str:
    """E-mail a customer whose card or mandate cannot be charged again for a new payment method."""
    from q2c.invoicing.partydata import billing_emails
    from q2c.parties.models import Account
    from q2c.payments.dunning.models import PaymentRetry

    retry = PaymentRetry.objects.filter(pk=retry_id).first()
    if retry is None:
        return "nothing to do"
    account = Account.objects.filter(pk=retry.account_id).first()
    if account is None:
        return "nothing to do"
    to = account.invoice_email or billing_emails([account.pk]).get(account.pk, "")
    if not to:
        return "no address"
    sender = LegalEntity.objects.filter(pk=retry.entity_id).values_list("email", flat=True).first() or None
    EmailMessage(
        subject="Please update your payment method",
        body=(
            "Dear customer,\n\nwe could not collect your last payment "
            f"({retry.method.replace('_', ' ')}: {retry.reason.replace('_', ' ')}). Please give us a new card "
            "or direct-debit mandate in the customer portal, or pay by bank transfer.\n"
        ),
        from_email=sender,
        to=[to],
    ).send()
    return "sent"
