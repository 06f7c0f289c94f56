"""Background work: campaign deadlines, settlement batches, the email outbox."""
