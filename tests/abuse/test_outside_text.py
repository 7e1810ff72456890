"""Text from outside systems that PostgreSQL cannot store never stops the notifier: LAPOR!'s
answer with a NUL in its ``tanggapan`` still becomes the referral's answer."""

from __future__ import annotations

from slrt.contracts.events import ReferralAnswered
from slrt.contracts.topics import Topic
from slrt.contracts.vocabulary import ProgramChannel, ReferralDecision
from tests.support.notifier import StandIns, StartNotifier, outcomes_for, program, referral


async def test_a_lapor_answer_holding_nul_is_published_not_stuck(
    start_notifier: StartNotifier, standins: StandIns, kafka_bootstrap: str
) -> None:
    notifier = await start_notifier()
    await notifier.catalog(program("PIP-NUL", ProgramChannel.LAPOR))
    await notifier.until("SELECT count(*) FROM programs", check=lambda n: n == 1)
    request = referral("PIP-NUL")
    await notifier.request(request)
    await notifier.status(request, "delivered")
    tracking_id = await notifier.pool.fetchval(
        "SELECT external_ref FROM deliveries WHERE request_id = $1", request.request_id
    )
    standins.lapor.reports[tracking_id].update(
        status="selesai", tanggapan="Dana\x00 sudah disalurkan."
    )
    await notifier.until("SELECT final FROM lapor_reports WHERE tracking_id = $1", tracking_id)
    assert request.referral_id is not None
    answers = await outcomes_for(
        kafka_bootstrap, request.referral_id, expect=1, topic=Topic.REFERRAL_ANSWERS
    )
    answer = answers[0][1].parse(ReferralAnswered)
    assert answer.decision is ReferralDecision.ACCEPTED
    assert answer.note == "Dana\ufffd sudah disalurkan."
