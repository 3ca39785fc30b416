"""The lifecycle diagram, drawn as SVG from the transition table itself: a state per box, a
transition per arrow, the path a ticket took and its current state highlighted.

Layout, so that a table of a dozen states stays readable: the longest path from the first state
(the way a ticket goes when all is well) runs down the spine column; every other state sits in
the row of its distance from the start, to the right of the spine; a state many others lead to
(`closed`) sits alone left of the spine, so its arrows fan in without crossing a box. An arrow
between neighbouring columns runs from the side of one box to the side of the other; a move and
its way back are drawn apart; arrows that would cross a column go through the gap between rows.
"""

from __future__ import annotations

from collections import deque
from xml.sax.saxutils import escape

from emulator.services.dms.domain import lifecycle

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 170, 30, 130, 34, 20
HUB_SOURCES = 3  # a state with this many sources goes left of the spine
Edge = tuple[str, str, str]  # (from, event, to)


def edges_of(table: dict[tuple[str, lifecycle.Event], str]) -> list[Edge]:
    """Moves that change the state (closing moves keep it: they are a badge, not an arrow)."""
    out = [(src, event.value, dst) for (src, event), dst in table.items() if src != dst]
    return sorted(set(out), key=out.index)


def layout(table: dict[tuple[str, lifecycle.Event], str], start: str) -> dict[str, tuple[int, int]]:
    """(column, row) of every state reachable from `start`."""
    edges = edges_of(table)
    depth = {start: 0}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for src, _, dst in edges:
            if src == s and dst not in depth:
                depth[dst] = depth[s] + 1
                queue.append(dst)
    ahead: dict[str, int] = {}

    def longest(s: str) -> int:
        if s not in ahead:
            ahead[s] = 0  # guards a cycle; only depth-increasing moves are followed
            nxt = [d for a, _, d in edges if a == s and depth.get(d, -1) > depth[s]]
            ahead[s] = max((1 + longest(d) for d in nxt), default=0)
        return ahead[s]

    spine = [start]
    while True:
        here = spine[-1]
        nxt = [d for a, _, d in edges if a == here and depth.get(d, -1) > depth[here]]
        nxt = [d for d in nxt if d not in spine]
        if not nxt:
            break
        spine.append(max(nxt, key=longest))  # first of the longest on a tie: table order
    sources: dict[str, set[str]] = {}
    for src, _, dst in edges:
        if src in depth:
            sources.setdefault(dst, set()).add(src)
    hubs = [s for s in depth if s not in spine and len(sources.get(s, ())) >= HUB_SOURCES]
    offset = 1 if hubs else 0
    pos: dict[str, tuple[int, int]] = {s: (offset, depth[s]) for s in spine}
    used = {(c, r) for c, r in pos.values()}
    for s in sorted(depth, key=lambda s: depth[s]):
        if s in pos or s in hubs:
            continue
        col = offset + 1
        while (col, depth[s]) in used:
            col += 1
        pos[s] = (col, depth[s])
        used.add(pos[s])
    for hub in hubs:
        rows = sorted(pos[s][1] for s in sources[hub] if s in pos) or [0]
        row = rows[len(rows) // 2]
        while (0, row) in used:
            row += 1
        pos[hub] = (0, row)
        used.add(pos[hub])
    return pos


def _xy(pos: dict[str, tuple[int, int]], state: str) -> tuple[int, int]:
    c, r = pos[state]
    return PAD + c * (BOX_W + GAP_X), PAD + r * (BOX_H + GAP_Y)


def route(
    pos: dict[str, tuple[int, int]], src: str, dst: str, both_ways: bool, slot: float = 0.5
) -> list[tuple[float, float]]:
    """The points of the arrow from `src` to `dst` (the last one is where its head ends);
    `slot` spreads the arrows entering one side of a box along it (0..1, top to bottom)."""
    (c1, r1), (c2, r2) = pos[src], pos[dst]
    (x1, y1), (x2, y2) = _xy(pos, src), _xy(pos, dst)
    m1, m2 = y1 + BOX_H / 2, y2 + BOX_H * slot
    if c1 == c2:
        if r2 == r1 + 1:
            return [(x1 + BOX_W / 2, y1 + BOX_H), (x2 + BOX_W / 2, y2)]
        side = x1 + BOX_W + 18  # around the column's right, clear of the boxes between
        return [(x1 + BOX_W, m1), (side, m1), (side, m2), (x2 + BOX_W, m2)]
    shift = (5 if r2 < r1 or (r2 == r1 and c2 < c1) else -5) if both_ways else 0
    right = c2 > c1
    start = (x1 + BOX_W if right else x1, m1 + shift)
    end = (x2 if right else x2 + BOX_W, m2 + shift)
    if abs(c2 - c1) == 1:
        return [start, end]
    # across a column: through the gap between rows, next to the source box
    down = r2 > r1
    gap = y1 + BOX_H + GAP_Y / 2 if down else y1 - GAP_Y / 2
    cx = x1 + BOX_W / 2 + (12 if right else -12)
    near = x2 - GAP_X / 2 if right else x2 + BOX_W + GAP_X / 2
    return [(cx, y1 + BOX_H if down else y1), (cx, gap), (near, gap), end]


def _label(points: list[tuple[float, float]]) -> tuple[float, float, str]:
    """Where an arrow's label goes: beside its last segment, clear of the line and the head."""
    (ax, ay), (bx, by) = points[-2], points[-1]
    if ax == bx:  # vertical: to the left of the line
        return ax - 10, (ay + by) / 2 + 3, "end"
    t = 0.4
    return ax + (bx - ax) * t, ay + (by - ay) * t - 6, "middle"


def render(plugin_type: str, path: list[str], closed: str | None = None) -> str:
    table = lifecycle.table_for(plugin_type)
    start = lifecycle.initial_state(plugin_type).status
    pos = layout(table, start)
    cols = max(c for c, _ in pos.values()) + 1
    rows = max(r for _, r in pos.values()) + 1
    width = PAD * 2 + cols * BOX_W + (cols - 1) * GAP_X + 40
    height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y + 20
    taken = set(zip(path, path[1:], strict=False))
    current = path[-1] if path else start
    edges = [e for e in edges_of(table) if e[0] in pos and e[2] in pos]
    pairs = {(s, d) for s, _, d in edges}

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'class="lifecycle" role="img" aria-label="lifecycle of a {escape(plugin_type)} ticket">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker>'
        '<marker id="arrow-taken" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="11" '
        'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#1a7f37"/></marker></defs>',
    ]
    entering: dict[str, list[str]] = {}  # sources arriving at a box's side, top to bottom
    for src, _, dst in edges:
        if pos[src][0] != pos[dst][0]:
            entering.setdefault(dst, []).append(src)
    for srcs in entering.values():
        srcs.sort(key=lambda s: pos[s][1])
    labels = []
    for src, event, dst in edges:
        side = entering.get(dst, [])
        slot = (side.index(src) + 1) / (len(side) + 1) if len(side) > 2 else 0.5
        points = route(pos, src, dst, (dst, src) in pairs, slot)
        on_path = (src, dst) in taken
        cls = "edge taken" if on_path else "edge"
        color, marker = ("#1a7f37", "arrow-taken") if on_path else ("#999", "arrow")
        d = "M " + " L ".join(f"{x:g} {y:g}" for x, y in points)
        parts.append(
            f'<path class="{cls}" data-from="{escape(src)}" data-to="{escape(dst)}" d="{d}" '
            f'stroke="{color}" stroke-width="{3 if on_path else 1.3}" fill="none" '
            f'marker-end="url(#{marker})"/>'
        )
        lx, ly, anchor = _label(points)
        labels.append(
            f'<text class="label" x="{lx:g}" y="{ly:g}" font-size="10" fill="#57606a" '
            f'text-anchor="{anchor}" paint-order="stroke" stroke="#fff" stroke-width="3">'
            f"{escape(event)}</text>"
        )
    for state in pos:
        x, y = _xy(pos, state)
        if state == current:
            fill, stroke, cls = "#fff1c2", "#bf8700", "state current"
        elif state in path:
            fill, stroke, cls = "#dafbe1", "#1a7f37", "state taken"
        else:
            fill, stroke, cls = "#f6f8fa", "#8c959f", "state"
        parts.append(
            f'<g class="{cls}" data-state="{escape(state)}"><rect x="{x}" y="{y}" '
            f'width="{BOX_W}" height="{BOX_H}" rx="8" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="2"/><text x="{x + BOX_W / 2}" y="{y + BOX_H / 2 + 4}" '
            f'text-anchor="middle" font-size="12" font-family="monospace">{escape(state)}</text></g>'
        )
    parts += labels  # above the boxes and lines, on their white halo
    if closed:
        x, y = _xy(pos, current)
        parts.append(
            f'<text class="closed" x="{x + BOX_W + 8}" y="{y - 3}" font-size="12" '
            f'fill="#cf222e">closed: {escape(closed)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
