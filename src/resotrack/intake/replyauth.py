"""Is an email return really from the focal point? The ``From`` header alone proves nothing.

Two proofs are accepted, as mail systems use them:

* **A signed reply address.** The questionnaire email's ``Reply-To`` is the returns mailbox
  plus-addressed with a tag bound to one focal point and one cycle
  (``returns+rt-12-3-<hmac>@…``), signed with the secret key like the upload link (other
  domain separation). A reply lands there with the tag in ``To``; a mail client that drops
  the tag still keeps it in the subject when the focal point copies it there.
* **The operator's own MTA.** When ``RESOTRACK_IMAP_TRUSTED_AUTHSERV_ID`` names it, an
  ``Authentication-Results`` header under that authserv-id with ``dmarc=pass`` (or ``dkim=pass``
  or ``spf=pass``) *for the sender's own domain* is accepted. That MTA must remove such
  headers from incoming mail before adding its own (RFC 8601, section 5), which the usual
  ones (OpenDMARC, rspamd, Exchange Online) do; headers under any other id are ignored.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses
from typing import Final

from resotrack.tokens import reply_address, reply_tag, verify_reply_tags

RECIPIENT_HEADERS: Final = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


def _values(message: Message, name: str) -> list[str]:
    try:
        return [str(v) for v in message.get_all(name) or []]
    except (ValueError, IndexError, TypeError):  # a header the parser chokes on
        return []


def signed_tags(message: Message) -> set[tuple[int, int]]:
    """The (focal point, cycle) pairs of valid tags in the recipients or the subject."""
    texts = [
        address for name in RECIPIENT_HEADERS for _, address in getaddresses(_values(message, name))
    ]
    return verify_reply_tags([*texts, *_values(message, "Subject")])


_RESULT: Final = re.compile(r"\b(dmarc|dkim|spf)\s*=\s*pass\b([^;]*)", re.IGNORECASE)
_PROPERTY: Final = re.compile(
    r"\b(header\.from|header\.d|header\.i|smtp\.mailfrom)\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE
)


def _aligned(value: str, domain: str) -> bool:
    value = value.lower().rsplit("@", 1)[-1].strip(".")
    return value == domain or value.endswith("." + domain)


def mta_vouches(message: Message, authserv_id: str, sender: str | None) -> bool:
    """Whether the trusted MTA (``authserv_id``) says DMARC, DKIM or SPF passed for the
    sender's domain. Empty ``authserv_id``: no MTA is trusted."""
    if not authserv_id or not sender or "@" not in sender:
        return False
    domain = sender.rsplit("@", 1)[1].lower()
    for header in _values(message, "Authentication-Results"):
        serv, _, results = " ".join(header.split()).partition(";")
        if serv.strip().split(" ")[0].lower() != authserv_id.lower():
            continue
        for _method, properties in _RESULT.findall(results):
            if any(_aligned(value, domain) for _, value in _PROPERTY.findall(properties)):
                return True
    return False


__all__ = ["mta_vouches", "reply_address", "reply_tag", "signed_tags"]
