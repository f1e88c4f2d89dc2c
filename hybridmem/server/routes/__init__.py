"""The REST routes, a module per group: memories, graph, operations, probes."""
