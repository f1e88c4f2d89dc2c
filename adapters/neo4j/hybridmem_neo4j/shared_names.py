"""The labels and schema of the shared coordination state, under a store's prefix.

Operations, history events, expiry rows, owners (process leases), claims, the
store's facts about itself (its embedder) and the two single nodes that
serialise writers (the sequence counter of operations and history events, and
the claim registry). Every lookup the journal and the leases make is an index
seek on one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

from hybridmem_neo4j.names import Names


@dataclass(frozen=True)
class SharedNames:
    names: Names

    def _label(self, suffix: str) -> str:
        return self.names.schema_name(suffix)

    @property
    def operation(self) -> str:
        return self._label("JournalOperation")

    @property
    def history(self) -> str:
        return self._label("JournalHistory")

    @property
    def expiry(self) -> str:
        return self._label("JournalExpiry")

    @property
    def owner(self) -> str:
        return self._label("JournalOwner")

    @property
    def claim(self) -> str:
        return self._label("JournalClaim")

    @property
    def counter(self) -> str:
        """One node: the last sequence numbers of operations and history events."""
        return self._label("JournalCounter")

    @property
    def meta(self) -> str:
        """One node: facts the store records about itself (its embedder)."""
        return self._label("JournalStoreMeta")

    @property
    def move(self) -> str:
        """The progress of moving a data directory's SQLite journal in (one per file)."""
        return self._label("JournalMove")

    @property
    def registry(self) -> str:
        """One node whose write lock serialises claim grants across processes."""
        return self._label("JournalClaimRegistry")

    def schema(self) -> tuple[str, ...]:
        name = self.names.schema_name
        op, h, x = self.operation, self.history, self.expiry
        w, c = self.owner, self.claim
        return (
            f"CREATE CONSTRAINT {name('journal_op_id')} IF NOT EXISTS"
            f" FOR (o:{op}) REQUIRE o.id IS UNIQUE",
            f"CREATE INDEX {name('journal_op_state')} IF NOT EXISTS"
            f" FOR (o:{op}) ON (o.state, o.seq)",
            f"CREATE INDEX {name('journal_history_memory')} IF NOT EXISTS"
            f" FOR (h:{h}) ON (h.memory_id)",
            f"CREATE INDEX {name('journal_history_user')} IF NOT EXISTS FOR (h:{h}) ON (h.user_id)",
            f"CREATE INDEX {name('journal_history_agent')} IF NOT EXISTS"
            f" FOR (h:{h}) ON (h.agent_id)",
            f"CREATE INDEX {name('journal_history_run')} IF NOT EXISTS FOR (h:{h}) ON (h.run_id)",
            f"CREATE CONSTRAINT {name('journal_expiry_memory')} IF NOT EXISTS"
            f" FOR (x:{x}) REQUIRE x.memory_id IS UNIQUE",
            f"CREATE INDEX {name('journal_expiry_due')} IF NOT EXISTS"
            f" FOR (x:{x}) ON (x.expires_at)",
            f"CREATE INDEX {name('journal_expiry_user')} IF NOT EXISTS FOR (x:{x}) ON (x.user_id)",
            f"CREATE INDEX {name('journal_expiry_agent')} IF NOT EXISTS"
            f" FOR (x:{x}) ON (x.agent_id)",
            f"CREATE INDEX {name('journal_expiry_run')} IF NOT EXISTS FOR (x:{x}) ON (x.run_id)",
            f"CREATE CONSTRAINT {name('journal_owner_id')} IF NOT EXISTS"
            f" FOR (w:{w}) REQUIRE w.id IS UNIQUE",
            f"CREATE INDEX {name('journal_owner_deadline')} IF NOT EXISTS"
            f" FOR (w:{w}) ON (w.deadline)",
            f"CREATE CONSTRAINT {name('journal_counter_name')} IF NOT EXISTS"
            f" FOR (s:{self.counter}) REQUIRE s.name IS UNIQUE",
            f"CREATE CONSTRAINT {name('journal_meta_name')} IF NOT EXISTS"
            f" FOR (s:{self.meta}) REQUIRE s.name IS UNIQUE",
            f"CREATE CONSTRAINT {name('journal_move_source')} IF NOT EXISTS"
            f" FOR (s:{self.move}) REQUIRE s.source IS UNIQUE",
            f"CREATE CONSTRAINT {name('journal_registry_name')} IF NOT EXISTS"
            f" FOR (s:{self.registry}) REQUIRE s.name IS UNIQUE",
            f"CREATE CONSTRAINT {name('journal_claim_id')} IF NOT EXISTS"
            f" FOR (c:{c}) REQUIRE c.id IS UNIQUE",
            f"CREATE INDEX {name('journal_claim_deadline')} IF NOT EXISTS"
            f" FOR (c:{c}) ON (c.deadline)",
        )
