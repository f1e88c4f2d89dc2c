"""The labels, relationship types and schema names one Neo4j store owns.

Neo4j Community has one user database, which hybridmem often shares with the
application it serves and with other hybridmem stores (staging and production).
Every name a store puts into the database carries its label prefix, so no
query of one store ever matches another application's ``Memory`` or ``Entity``
nodes, or another store's. Labels and types cannot be query parameters: the
prefix is validated against ``LABEL_PREFIX_PATTERN`` and backtick-quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hybridmem.errors import ConfigurationError

#: Starts with a capital letter, so a prefixed name never equals a plain one another
#: application may use (``Memory``, ``hybridmem_memory_id``); letters and digits only.
LABEL_PREFIX_PATTERN = r"^[A-Z][A-Za-z0-9]{0,31}$"
DEFAULT_LABEL_PREFIX = "Hybridmem"


@dataclass(frozen=True)
class Names:
    """Every name one store uses in Cypher, quoted and ready to splice in."""

    prefix: str

    def __post_init__(self) -> None:
        if not re.fullmatch(LABEL_PREFIX_PATTERN, self.prefix):
            raise ConfigurationError(
                f"invalid Neo4j label_prefix {self.prefix!r}: it must match"
                f" {LABEL_PREFIX_PATTERN} (a capital letter, then up to 31 letters or digits)"
            )

    def _quoted(self, suffix: str) -> str:
        return f"`{self.prefix}_{suffix}`"

    @property
    def memory(self) -> str:
        return self._quoted("Memory")

    @property
    def entity(self) -> str:
        return self._quoted("Entity")

    @property
    def mentions(self) -> str:
        return self._quoted("MENTIONS")

    @property
    def relates(self) -> str:
        return self._quoted("RELATES")

    def schema_name(self, suffix: str) -> str:
        """A constraint or index name: ``<prefix>_memory_id`` and the like."""
        return self._quoted(suffix)

    def unused(self, var: str = "e") -> str:
        """True for an entity with none of this store's MENTIONS or RELATES edges;
        another application's relationships to it do not keep it."""
        return (
            f"NOT EXISTS {{ ({var})<-[:{self.mentions}]-(:{self.memory}) }}"
            f" AND NOT EXISTS {{ ({var})-[:{self.relates}]-(:{self.entity}) }}"
        )

    def schema(self) -> tuple[str, ...]:
        m, e, r = self.memory, self.entity, self.relates
        name = self.schema_name
        return (
            f"CREATE CONSTRAINT {name('memory_id')} IF NOT EXISTS"
            f" FOR (m:{m}) REQUIRE m.id IS UNIQUE",
            f"CREATE CONSTRAINT {name('entity_id')} IF NOT EXISTS"
            f" FOR (e:{e}) REQUIRE e.id IS UNIQUE",
            f"CREATE INDEX {name('memory_user')} IF NOT EXISTS FOR (m:{m}) ON (m.user_id)",
            f"CREATE INDEX {name('memory_agent')} IF NOT EXISTS FOR (m:{m}) ON (m.agent_id)",
            f"CREATE INDEX {name('memory_run')} IF NOT EXISTS FOR (m:{m}) ON (m.run_id)",
            f"CREATE INDEX {name('entity_user')} IF NOT EXISTS FOR (e:{e}) ON (e.user_id)",
            f"CREATE INDEX {name('relates_memory')} IF NOT EXISTS"
            f" FOR ()-[r:{r}]-() ON (r.memory_id)",
            # Writes find a relation by id through it, not by walking an entity's edges.
            f"CREATE INDEX {name('relates_id')} IF NOT EXISTS FOR ()-[r:{r}]-() ON (r.id)",
        )
