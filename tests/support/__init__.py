"""What the tests share and that is not a test: factories and builders of test data, the live
HTTP, SMTP and Redis servers the tests start, and helpers that read the outbox, the mail and
the pages."""
