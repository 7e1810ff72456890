-- Attachments of pre-list entries and profile-change proposals: the evidence a front office or
-- facilitator photographs (KK card, a letter from the village head). The row says what was
-- kept; the bytes live sealed (AES-256-GCM, the attachment key ring) in the configured store
-- under storage_name (slrt/attachments). No file name the client gave is kept.
CREATE TABLE attachments (
    id             uuid PRIMARY KEY,
    owner_kind     text NOT NULL CHECK (owner_kind IN ('prelist', 'change')),
    owner_id       uuid NOT NULL,
    client_id      text,
    content_type   text NOT NULL,
    size_bytes     integer NOT NULL,
    sha256         text NOT NULL,
    width          integer,
    height         integer,
    storage_name   text NOT NULL,
    key_id         text NOT NULL,
    uploaded_by    text NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (owner_kind, owner_id, client_id)
);
CREATE INDEX attachments_owner ON attachments (owner_kind, owner_id, uploaded_at);
