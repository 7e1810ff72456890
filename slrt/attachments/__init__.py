"""Attachments: the household's documents (photos of KKS/KIS cards, letters, receipts) that staff
attach to what they record. The parts every owning service uses alike:

- :mod:`.content`: what a file is, judged by its bytes (never its name or declared type), and
  making it safe to keep: images re-encoded without metadata (EXIF, GPS), PDFs with active
  content refused;
- :mod:`.scan`: the virus-scanning hook, a clamd client (``INSTREAM``), off by default;
- :mod:`.sealing`: encryption at rest with the platform's AES-256-GCM key ring
  (:class:`slrt.payload_codec.PayloadKeys`, the same scheme as Temporal payloads);
- :mod:`.storage`: where the sealed bytes live, behind one interface: a local folder (laptop
  stack) or an S3-compatible object store (Kubernetes).

The service that owns the object an attachment belongs to (intake for complaints) keeps the
attachment's row, authorises and audits its reads.
"""
