"""Cycles in milestone references, as pure graph code: one module for the Ready check
(:func:`conditions.ready.check_cycles`) and the run's guard (:func:`ms_prcs.engine.findings.cycle_warnings`).

A graph is ``{milestone id: [ids it waits on]}``; nothing here touches a database.
"""

from __future__ import annotations

from collections.abc import Iterator


def cyclic_components(graph: dict[int, list[int]]) -> list[list[int]]:
    """The strongly connected components that hold a cycle (two or more members, or a self-reference),
    each sorted, in sorted order."""
    return sorted(
        sorted(scc) for scc in strongly_connected(graph) if len(scc) > 1 or scc[0] in graph.get(scc[0], ())
    )


def first_cycle(graph: dict[int, list[int]], start: int) -> list[int] | None:
    """A closed walk through the first cycle reachable from ``start`` (depth first, successors in the
    graph's order), from the first of its members on the path; None when nothing reachable loops."""
    path: list[int] = []
    on_path: set[int] = set()
    done: set[int] = set()
    work: list[tuple[int, Iterator[int]]] = [(start, iter(graph.get(start, ())))]
    path.append(start)
    on_path.add(start)
    while work:
        node, successors = work[-1]
        nxt = next(successors, None)
        if nxt is None:
            work.pop()
            path.pop()
            on_path.discard(node)
            done.add(node)
            continue
        if nxt in on_path:
            return path[path.index(nxt) :] + [nxt]
        if nxt not in done:
            path.append(nxt)
            on_path.add(nxt)
            work.append((nxt, iter(graph.get(nxt, ()))))
    return None


def closed_walk(graph: dict[int, list[int]], component: list[int]) -> list[int]:
    """A closed walk through ``component`` from its smallest member, for the message."""
    inside = set(component)
    start = component[0]
    path, seen, node = [start], {start}, start
    while True:
        nxt = min(n for n in graph[node] if n in inside)
        if nxt in seen:
            return path[path.index(nxt) :] + [nxt]
        path.append(nxt)
        seen.add(nxt)
        node = nxt


def strongly_connected(graph: dict[int, list[int]]) -> Iterator[list[int]]:
    """Tarjan's algorithm, iterative (chains can be longer than Python's recursion limit)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[int] = []
    on_stack: set[int] = set()
    counter = 0
    for root in graph:
        if root in index:
            continue
        work: list[tuple[int, Iterator[int]]] = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for nxt in successors:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                yield component
