"""The demo district's own programs in the program catalog, so the week shows all three ways a
destination answers a referral: through LAPOR! (the seeded national BPNT and PIS-PBI), by its
own system on a signed webhook, and by its program manager on an answer link.

- ``JAMKESDA`` — the district's health assistance (Jaminan Kesehatan Daerah), run by the
  district health office, whose system receives referrals on a Standard Webhooks-signed
  webhook (the webhook receiver stand-in) and answers on the callback URL, signed with the same
  key (``WEBHOOK_SECRET_REF``);
- ``RUTILAHU`` — the district's housing renovation for uninhabitable homes (Rumah Tidak Layak
  Huni), whose program manager has no system: the notifier emails them an answer link.

The district manager writes them through the registry's catalog API (``PUT /v1/programs/{code}``,
``catalog.edit``), as a real manager would; an unchanged entry makes no new version, so seeding
again (every ``make up``) changes nothing."""

from __future__ import annotations

from typing import Any

import httpx

from slrt.places import directory
from slrt_dev.issuer import DevIssuer

WEBHOOK_PROGRAM = "JAMKESDA"
ANSWER_LINK_PROGRAM = "RUTILAHU"
WEBHOOK_SECRET_REF = "demo-jamkesda"  # noqa: S105 -- the secret's name, not its value
ANSWER_LINK_EMAIL = "pengelola.rutilahu@dinas-perkim.demo.example"
"""The program manager's mailbox: the answer link arrives there (the SMTP sink keeps it)."""
WEBHOOK_PATH = "/webhooks/referrals"


def specs(district: str, webhook_url: str, secret_ref: str) -> dict[str, dict[str, Any]]:
    """The two programs as the registry's ``ProgramSpec`` bodies (``webhook_url``: the receiver's
    base URL)."""
    place = directory().get(district)
    where = place.name if place else f"Kabupaten {district}"
    common: dict[str, Any] = {
        "level": "district",
        "area": district,
        "channel": "direct",
        "categories": ["implementation", "program_need"],
        "sla_working_days": 10,
        "reminder_working_days": 5,
    }
    return {
        WEBHOOK_PROGRAM: {
            **common,
            "name": f"Jaminan Kesehatan Daerah (Jamkesda) {where}",
            "owner_agency": f"Dinas Kesehatan {where}",
            "callback_url": webhook_url.rstrip("/") + WEBHOOK_PATH,
            "webhook_secret_ref": secret_ref,
        },
        ANSWER_LINK_PROGRAM: {
            **common,
            "name": f"Bantuan Rumah Tidak Layak Huni (Rutilahu) {where}",
            "owner_agency": f"Dinas Perumahan dan Kawasan Permukiman {where}",
            "contact_email": ANSWER_LINK_EMAIL,
        },
    }


def seed(
    registry_url: str,
    issuer: DevIssuer,
    district: str,
    webhook_url: str,
    secret_ref: str = WEBHOOK_SECRET_REF,
) -> dict[str, int]:
    """Write the programs as the district's manager; returns each one's HTTP status (201 new,
    200 unchanged or changed). Raises on a refusal."""
    token = issuer.token(f"demo-manager-{district}", ["manager"], district)
    statuses = {}
    with httpx.Client(timeout=30) as http:
        for code, spec in specs(district, webhook_url, secret_ref).items():
            response = http.put(
                f"{registry_url}/v1/programs/{code}",
                json=spec,
                headers={"Authorization": f"Bearer {token}"},
            )
            if response.status_code >= 300:
                raise RuntimeError(
                    f"the registry refused program {code}: {response.status_code} "
                    f"{response.text[:500]}"
                )
            statuses[code] = response.status_code
    return statuses
