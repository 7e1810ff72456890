"""Temporal holds ciphertext: a complaint's workflow on the real dev server, with the services'
codec (``slrt.temporal.data_converter``), runs as before, while its history *as the server keeps
it* (fetched raw, without the codec) holds no NIK, name, address or description — every
payload is AES-GCM under a key id. And a key rotation mid-complaint loses nothing: a worker
with the new key ring (old key retired) carries on a history written under the old key."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client
from temporalio.worker import Worker

from services.routing.activities import ComplaintActivities
from slrt.auth.principal import Role
from slrt.contracts.complaints import UPDATE_WITHDRAW, ComplaintSnapshot, ComplaintStep, Withdraw
from slrt.contracts.events import Complainant, ComplaintSubmitted
from slrt.payload_codec import KEY_ID, PayloadKeys, is_encrypted
from slrt.temporal import data_converter
from tests.support.complaints import VILLAGE, Driven, actor, request_id, submitted
from tests.support.harness import TEST_NAMESPACE
from workflows.complaint import ComplaintWorkflow

NIK = "3204054107850001"
KK = "3204051203090007"
NAME = "Siti Aminah Lestari"
ADDRESS = "Kp. Sukamaju RT 01 RW 02"
DESCRIPTION = "Bantuan PKH tahap 3 belum diterima sejak Juli"
WITHDRAW_REASON = "Bantuan sudah cair bulan ini"
SKIPPED = {"search_attributes", "marker_recorded_event_attributes"}
SECRETS = [NIK, KK, NAME, ADDRESS, DESCRIPTION, WITHDRAW_REASON]


def complaint() -> ComplaintSubmitted:
    base = submitted()
    person = Complainant(
        nik=NIK, kk_number=KK, name=NAME, address=ADDRESS, sex="female", village_code=VILLAGE
    )
    return base.model_copy(update={"complainant": person, "description": DESCRIPTION})


def payloads(message: Message) -> Iterator[Payload]:
    """Every payload anywhere in a proto message (inputs, results, signals, updates...) except
    search attributes, which the server must read to index (ticket, place, category, the
    ``workflow.patched`` change ids: no personal data, ``slrt.contracts.temporal``), and the SDK's
    own markers (a ``workflow.patched`` id)."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None or field.name in SKIPPED:
            continue
        if isinstance(value, Message):
            yield from payloads(value)
            continue
        items = value.values() if hasattr(value, "values") else value  # a map or a list
        for item in items:
            if isinstance(item, Message):
                yield from payloads(item)


async def raw_history(client: Client, workflow_id: str) -> list[HistoryEvent]:
    """The history as the server stores it: the raw RPC, no data converter involved."""
    events: list[HistoryEvent] = []
    token = b""
    while True:
        page = await client.workflow_service.get_workflow_execution_history(
            GetWorkflowExecutionHistoryRequest(
                namespace=TEST_NAMESPACE,
                execution=WorkflowExecution(workflow_id=workflow_id),
                next_page_token=token,
            )
        )
        events.extend(page.history.events)
        token = page.next_page_token
        if not token:
            return events


async def test_the_server_keeps_ciphertext_and_the_complaint_still_runs(
    temporal_client: Client, dev_queue: str, kafka_bootstrap: str
) -> None:
    c = await Driven(temporal_client, dev_queue, kafka_bootstrap, complaint()).start()
    registry = await c.registry_request()  # the registry still gets the NIK it needs, on Kafka
    assert registry.nik == NIK
    await c.answer_registry()
    await c.act(
        UPDATE_WITHDRAW,
        Withdraw(actor=actor(Role.BACK_OFFICE), request_id=request_id(), reason=WITHDRAW_REASON),
    )
    result = await c.handle.result()
    assert isinstance(result, ComplaintSnapshot)
    assert result.step is ComplaintStep.WITHDRAWN

    events = await raw_history(temporal_client, c.handle.id)
    stored = b"".join(e.SerializeToString() for e in events)
    for secret in SECRETS:
        assert secret.encode() not in stored, f"{secret!r} is readable in Temporal"
    found = [p for e in events for p in payloads(e)]
    assert len(found) > 10  # input, activities, signal, update, query-free result...
    plain = [(p.metadata, p.data[:60]) for p in found if not is_encrypted(p)]
    assert plain == []
    assert {p.metadata[KEY_ID] for p in found} == {b"sandbox-2"}  # the sandbox's current key


async def test_a_key_rotation_mid_complaint_keeps_its_history_readable(
    temporal_address: str, activities: ComplaintActivities, kafka_bootstrap: str
) -> None:
    old, new = PayloadKeys.generate("rot-old"), PayloadKeys.generate("rot-new")

    async def client_with(ring: str) -> Client:
        return await Client.connect(
            temporal_address,
            namespace=TEST_NAMESPACE,
            data_converter=data_converter(PayloadKeys.parse(ring)),
        )

    before, after = await client_with(old), await client_with(f"{new} {old}")
    queue = f"rotation-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        before, task_queue=queue, workflows=[ComplaintWorkflow], activities=activities.all()
    )
    async with worker:
        c = await Driven(before, queue, kafka_bootstrap, complaint()).start()
        await c.answer_registry()
    # Deployed: every client and worker now has the new key current, the old one retired.
    async with Worker(
        after, task_queue=queue, workflows=[ComplaintWorkflow], activities=activities.all()
    ):
        rotated = Driven(after, queue, kafka_bootstrap, c.complaint)
        state = await rotated.at(ComplaintStep.BACK_OFFICE)  # replays the old-key history
        assert state.snapshot.ticket_number == c.complaint.ticket_number
        await rotated.act(
            UPDATE_WITHDRAW,
            Withdraw(actor=actor(Role.BACK_OFFICE), request_id=request_id(), reason="pindah"),
        )
        result = await rotated.handle.result()
    assert result.step is ComplaintStep.WITHDRAWN
    keys = {p.metadata[KEY_ID] for e in await raw_history(after, c.handle.id) for p in payloads(e)}
    assert keys == {b"rot-old", b"rot-new"}
