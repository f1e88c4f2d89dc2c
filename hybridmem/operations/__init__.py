"""Every mutating operation, one module per kind the journal records.

Each module holds the operation's run (claim its records → journal ``begin`` →
store steps, each followed by a fault point (``hybridmem.faults``) → journal
``finish`` with its history, atomically), its recovery claim, its ``resume``
(what ``recover()`` does with it when a crash left it pending) and its typed
payload, the JSON the journal keeps between ``begin`` and ``finish``:

* ``add`` — one memory; resumed by rolling it back.
* ``add_many`` — a batch, all or nothing; resumed by rolling it back.
* ``update`` — one memory's text, embedding, metadata or expiry; resumed by
  writing the journaled new version again.
* ``delete`` — one memory; ``erase`` — ``delete_all`` of a scope; ``purge`` —
  ``purge_expired``; ``reset``; ``reconcile`` (with ``fix``): resumed by
  finishing them, each step being idempotent.

``context`` holds what every operation runs against (the stores, the journal,
the claims, the fault hook); ``recovery`` is the table from kind to module and
the ``recover()`` pass over it; ``hybridmem.coordinator`` is the facade the
store calls. The bookkeeping of an erasure (counts, loop guard, progress,
results) is ``hybridmem.plan``'s.
"""
