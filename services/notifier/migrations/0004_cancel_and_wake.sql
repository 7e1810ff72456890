-- A referral that no longer waits (expired as no_response, withdrawn, closed) has its delivery
-- cancelled: a final status of its own, neither delivered nor a dead letter.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK (
    status IN ('digest', 'pending', 'retrying', 'delivered', 'failed', 'handed_to_facilitator',
               'cancelled')
);
-- cancelled_at: when it was cancelled (last_error says why).
-- route: the destination its last attempt went to (a program's webhook, "lapor", "siks-ng",
--   "sms-gateway", "smtp"): when that destination answers again, its waiting retries are
--   brought forward instead of waiting out their backoff.
-- leased_until: set while an attempt runs, so bringing retries forward never touches a
--   delivery whose attempt is in flight.
ALTER TABLE deliveries
    ADD COLUMN cancelled_at timestamptz,
    ADD COLUMN route text,
    ADD COLUMN leased_until timestamptz;
CREATE INDEX deliveries_waiting_route ON deliveries (route) WHERE status = 'retrying';
