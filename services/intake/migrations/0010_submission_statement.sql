-- A submission is accepted by one statement (services/intake/store.py: accept): the ticket
-- counter, the complaint, its first status and its outbox row. When a concurrent request with
-- the same idempotency key committed first, the complaint insert does nothing and this function
-- fails the statement, so the counter's increment is rolled back with it (ticket numbers stay
-- without gaps) and the caller answers with the winner's complaint.
CREATE FUNCTION submission_lost_race() RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a concurrent submission with the same idempotency key committed first'
        USING ERRCODE = 'SL409';
END
$$;
