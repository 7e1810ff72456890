-- Registry news (a verification result weeks later) for a complaint whose workflow run has
-- already ended: routing records it on the complaint's timeline itself, as a lifecycle event
-- after the run's last one (services/routing/late_results.py). One row per piece of news: a
-- redelivery publishes the same sequence again (the same event id), and two pieces of news
-- for one complaint take consecutive sequences.
CREATE TABLE late_registry_results (
    news_key     text PRIMARY KEY,
    complaint_id uuid NOT NULL,
    sequence     integer NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX late_registry_results_complaint ON late_registry_results (complaint_id, sequence);
