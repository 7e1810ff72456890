-- Attachments of complaints: the household's documents (photos of KKS/KIS cards, letters,
-- receipts). The row says what was kept and where; the bytes live sealed (AES-256-GCM, the
-- attachment key ring) in the configured store (a folder or an S3-compatible bucket) under
-- storage_name. No file name the client gave is kept (it may carry a name or a NIK).
CREATE TABLE attachments (
    id             uuid PRIMARY KEY,
    complaint_id   uuid NOT NULL REFERENCES complaints (id),
    client_id      text,
    content_type   text NOT NULL,
    size_bytes     integer NOT NULL,
    sha256         text NOT NULL,
    width          integer,
    height         integer,
    storage_name   text NOT NULL,
    key_id         text NOT NULL,
    uploaded_by    text NOT NULL,
    uploaded_role  text NOT NULL,
    uploaded_at    timestamptz NOT NULL DEFAULT now(),
    -- A tablet's resend of the same file (its client id) finds the first upload.
    UNIQUE (complaint_id, client_id)
);
CREATE INDEX attachments_complaint ON attachments (complaint_id, uploaded_at);
