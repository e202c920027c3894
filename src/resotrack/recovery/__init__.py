"""Disaster recovery: consistent backups, verified restores, and a check of the live system.

Resolution 1/49-IT asks the Secretariat for a disaster recovery plan. The returns of the
member states and the Secretariat's reports must survive the loss of the machine, the
database or the blob store, and staff must be able to prove it:

``backup``   one consistent, timestamped generation: the database snapshot first (SQLite's
             online backup API, or ``pg_dump -Fc`` on an exported snapshot), then every blob
             (blobs are immutable and content-addressed, so copying them *after* the snapshot
             gives every row of the snapshot its file), the published reports, the settings
             without secrets, and last, atomically, a manifest of SHA-256 checksums.
``restore``  refuses a backup whose manifest does not verify, naming the damaged part, and a
             target that holds data unless forced; blobs first, the database last.
``verify``   checks the live system: blobs against their hashes, answers against accepted
             submissions, and the outbox for stuck messages.

Modules: ``manifest`` (format, checksums), ``backup``, ``restore``, ``verify``, ``pg``
(PostgreSQL client programs), ``nightly`` (what the ``backup`` DAG runs, with the alert email)
and ``cli`` (``register(app)``).
The ``backup`` DAG's schedule is ``resotrack.orchestration.NIGHTLY``.
"""


class RecoveryError(RuntimeError):
    """A backup, restore or check that cannot proceed; the message says what to do."""


__all__ = ["RecoveryError"]
