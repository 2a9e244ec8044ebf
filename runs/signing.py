"""Signed approval links: resume, cancel and the approval page of one suspended step.

A token carries the run id, the suspended step's key, the resume id (one per required event),
the action and the expiry (the suspend timeout). It is HMAC-signed with SECRET_KEY (Django's
signing, its own salt), so a resume token can't be used to cancel, nor for another run or step,
and any change makes it invalid (403). Expiry and single use are checked against the run
(410): a used resume id is recorded in the engine state and refused the second time.
"""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.core import signing
from django.urls import reverse

from openflow_site.storable import loads_strict

SALT = "openflow.approval-links.v1"
ACTIONS = ("resume", "cancel", "page")


class LinkInvalid(Exception):
    """Forged, tampered or wrong-action token (HTTP 403)."""


@dataclass(frozen=True)
class ApprovalLink:
    run_id: str
    step: str
    resume_id: int
    action: str
    expires_at: float | None

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and time.time() >= self.expires_at


def make_token(link: ApprovalLink) -> str:
    body = {"r": link.run_id, "s": link.step, "i": link.resume_id, "a": link.action, "e": link.expires_at}
    return signing.dumps(body, salt=SALT, compress=True)


def read_token(token: str, action: str) -> ApprovalLink:
    try:
        body = signing.loads(token, salt=SALT)
    except signing.BadSignature:
        raise LinkInvalid("This link's signature is not valid.") from None
    if not isinstance(body, dict) or body.get("a") != action:
        raise LinkInvalid(f"This link is not a {action} link.")
    try:
        return ApprovalLink(str(body["r"]), str(body["s"]), int(body["i"]), action, body.get("e"))
    except (KeyError, TypeError, ValueError):
        raise LinkInvalid("This link is malformed.") from None


def links_for(run_id: str, step: str, resume_id: int, expires_at: float | None, approver: str | None = None
              ) -> dict[str, str]:
    """The three URLs of one pending approval event (relative; the API makes them absolute)."""
    query = f"?approver={quote(approver)}" if approver else ""
    urls = {}
    for action, name in (("resume", "approval-resume"), ("cancel", "approval-cancel"), ("page", "approval-page")):
        token = make_token(ApprovalLink(run_id, step, resume_id, action, expires_at))
        key = "approval_page_url" if action == "page" else f"{action}_url"
        urls[key] = reverse(name, args=[token]) + query
    return urls


def decode_payload(raw: str) -> Any:
    """Decode ``?payload=``: base64 of JSON, standard (padded or not) or URL-safe alphabet."""
    text = raw.strip().replace(" ", "+")  # a '+' that arrived unescaped in a query string is a space
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("payload is not valid base64") from None
    try:
        return loads_strict(data)
    except (UnicodeDecodeError, ValueError):
        raise ValueError("payload is not base64 of a JSON document") from None
    except RecursionError:
        raise ValueError("payload is nested too deeply") from None
