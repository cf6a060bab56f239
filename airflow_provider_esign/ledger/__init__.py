"""The contract ledger: a vendor account as rows in the user's own database, kept current
incrementally (see ``docs/howto/ledger.md``)."""
