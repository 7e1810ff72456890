"""Stand-ins for the outside world — for tests and the local demo only, never production.

Each is a real server on loopback that plays one outside party the notifier talks to:

- ``webhook_receiver`` — a program manager's system: verifies Standard Webhooks signatures
  (with its own HMAC code, independent of the sender's library), and can accept, fail, be slow,
  throttle (429 + Retry-After), be gone (410), and answer the referral on its callback URL;
- ``lapor`` — a LAPOR!-like API: files reports, gives tracking ids, lets a test move a report's
  status;
- ``siks_ng`` — a SIKS-NG-like API taking membership complaints and pre-list proposals, giving
  each a status the notifier polls, and letting a test set its verdict;
- ``sms_gateway`` — an HTTP SMS gateway sink;
- ``smtp_sink`` — an SMTP server (aiosmtpd) that keeps what it receives.

Run one with ``python -m slrt_dev.standins.<name> --port N``; they bind to 127.0.0.1 only.
"""
