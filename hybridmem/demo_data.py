"""A small, realistic agent-memory data set for the demo, which embeds it with wordllama."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The demo's question. It shares no content word with the memory it should find
#: ("Alice avoids caffeine after 2pm"); wordllama ranks that memory first among
#: Alice's nine (cosine 0.37, the next 0.07), which the hashing placeholder cannot.
QUESTION = "Does she drink coffee in the evening?"
ANSWER = "Alice avoids caffeine after 2pm"


@dataclass(frozen=True)
class DemoMemory:
    text: str
    user_id: str
    agent_id: str
    run_id: str
    entities: tuple[tuple[str, str], ...] = ()
    relations: tuple[tuple[str, str, str], ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)


def _m(
    text: str, user: str, agent: str, run: str, entities: str = "", relations: str = ""
) -> DemoMemory:
    ents = tuple((part.split(":")[0], part.split(":")[1]) for part in entities.split(",") if part)
    rels = tuple(
        (part.split(">")[0], part.split(">")[2], part.split(">")[1])
        for part in relations.split(",")
        if part
    )
    return DemoMemory(text, user, agent, run, ents, rels, {"source": "demo"})


MEMORIES: tuple[DemoMemory, ...] = (
    # alice: a travel assistant and a health coach, two sessions each
    _m(
        "Alice lives in Lisbon with her partner Sam",
        "alice",
        "travel-assistant",
        "t-001",
        "Alice:person,Lisbon:city,Sam:person",
        "Alice>lives_in>Lisbon,Alice>partner_of>Sam",
    ),
    _m(
        "Alice prefers window seats on long flights",
        "alice",
        "travel-assistant",
        "t-001",
        "Alice:person",
        "",
    ),
    _m(
        "Alice is planning a trip to Kyoto in April",
        "alice",
        "travel-assistant",
        "t-002",
        "Alice:person,Kyoto:city",
        "Alice>plans_trip_to>Kyoto",
    ),
    _m(
        "Alice wants a ryokan near Gion in Kyoto",
        "alice",
        "travel-assistant",
        "t-002",
        "Kyoto:city,Gion:district",
        "Gion>part_of>Kyoto",
    ),
    _m(
        "Sam is allergic to shellfish",
        "alice",
        "travel-assistant",
        "t-002",
        "Sam:person,Shellfish:allergen",
        "Sam>allergic_to>Shellfish",
    ),
    _m(
        "Alice runs 5k three times a week",
        "alice",
        "health-coach",
        "h-001",
        "Alice:person,Running:activity",
        "Alice>does>Running",
    ),
    _m(
        "Alice's resting heart rate is 58 bpm", "alice", "health-coach", "h-001", "Alice:person", ""
    ),
    _m(
        "Alice wants to train for the Lisbon half marathon",
        "alice",
        "health-coach",
        "h-002",
        "Alice:person,Lisbon Half Marathon:event,Lisbon:city",
        "Alice>trains_for>Lisbon Half Marathon,Lisbon Half Marathon>held_in>Lisbon",
    ),
    _m(
        "Alice avoids caffeine after 2pm",
        "alice",
        "health-coach",
        "h-002",
        "Alice:person,Caffeine:substance",
        "Alice>avoids>Caffeine",
    ),
    # bob: a coding agent
    _m(
        "Bob maintains the billing service written in Go",
        "bob",
        "code-helper",
        "c-101",
        "Bob:person,Billing Service:system,Go:language",
        "Bob>maintains>Billing Service,Billing Service>written_in>Go",
    ),
    _m(
        "Bob's team deploys on Fridays only with approval",
        "bob",
        "code-helper",
        "c-101",
        "Bob:person",
        "",
    ),
    _m(
        "The billing service talks to Postgres 15",
        "bob",
        "code-helper",
        "c-102",
        "Billing Service:system,Postgres:database",
        "Billing Service>uses>Postgres",
    ),
    _m(
        "Bob lives in Lisbon too and cycles to work",
        "bob",
        "code-helper",
        "c-102",
        "Bob:person,Lisbon:city,Cycling:activity",
        "Bob>lives_in>Lisbon,Bob>does>Cycling",
    ),
    # carol: travel assistant again (same agent id as alice's: different user)
    _m(
        "Carol is flying to Kyoto for a conference",
        "carol",
        "travel-assistant",
        "t-900",
        "Carol:person,Kyoto:city",
        "Carol>travels_to>Kyoto",
    ),
    _m(
        "Carol needs vegetarian meals",
        "carol",
        "travel-assistant",
        "t-900",
        "Carol:person,Vegetarian:diet",
        "Carol>follows>Vegetarian",
    ),
    _m(
        "Carol's conference is at the Kyoto International Conference Center",
        "carol",
        "travel-assistant",
        "t-901",
        "Kyoto International Conference Center:venue,Kyoto:city",
        "Kyoto International Conference Center>located_in>Kyoto",
    ),
)
