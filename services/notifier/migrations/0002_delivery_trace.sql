-- The W3C trace context (traceparent/tracestate, as the outbox keeps them) current when the
-- delivery was recorded: the dispatcher sends each attempt inside it, so the outbound call
-- continues the complaint's trace. NULL when the delivery was recorded outside any trace.
ALTER TABLE deliveries ADD COLUMN trace_headers jsonb;
