"""The lifecycle diagram, drawn as SVG from the transition table itself: a state per box, a
transition per arrow, the path a ticket took and its current state highlighted."""

from __future__ import annotations

from collections import deque
from xml.sax.saxutils import escape

from emulator.services.dms.domain import lifecycle

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 190, 34, 40, 34, 20


def layout(table: dict[tuple[str, lifecycle.Event], str], start: str) -> dict[str, tuple[int, int]]:
    """Row = distance from the first state; column = order within the row."""
    depth = {start: 0}
    queue = deque([start])
    while queue:
        s = queue.popleft()
        for (src, _), dst in table.items():
            if src == s and dst not in depth:
                depth[dst] = depth[s] + 1
                queue.append(dst)
    rows: dict[int, list[str]] = {}
    for state, d in depth.items():
        rows.setdefault(d, []).append(state)
    return {s: (col, row) for row, states in rows.items() for col, s in enumerate(states)}


def render(plugin_type: str, path: list[str], closed: str | None = None) -> str:
    table = lifecycle.table_for(plugin_type)
    start = lifecycle.initial_state(plugin_type).status
    pos = layout(table, start)
    cols = max(c for c, _ in pos.values()) + 1
    rows = max(r for _, r in pos.values()) + 1
    width, height = (
        PAD * 2 + cols * BOX_W + (cols - 1) * GAP_X,
        PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y + 20,
    )
    taken = set(zip(path, path[1:], strict=False))
    current = path[-1] if path else start

    def xy(state: str) -> tuple[int, int]:
        c, r = pos[state]
        return PAD + c * (BOX_W + GAP_X), PAD + r * (BOX_H + GAP_Y)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" class="lifecycle" '
        f'role="img" aria-label="lifecycle of a {escape(plugin_type)} ticket">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker>'
        '<marker id="arrow-taken" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="11" '
        'markerHeight="11" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
        '<path d="M 0 0 L 10 5 L 0 10 z" fill="#1a7f37"/></marker></defs>',
    ]
    for (src, event), dst in sorted(table.items(), key=lambda kv: (kv[0][0], kv[0][1].value)):
        if src == dst:
            continue  # closing moves (reject, cancel) keep the state; shown as a badge
        (x1, y1), (x2, y2) = xy(src), xy(dst)
        sx, sy, ex, ey = x1 + BOX_W / 2, y1 + BOX_H, x2 + BOX_W / 2, y2
        on_path = (src, dst) in taken
        cls = "edge taken" if on_path else "edge"
        color, marker = ("#1a7f37", "arrow-taken") if on_path else ("#999", "arrow")
        parts.append(
            f'<path class="{cls}" data-from="{src}" data-to="{dst}" d="M {sx} {sy} L {ex} {ey}" '
            f'stroke="{color}" stroke-width="{3 if on_path else 1.3}" fill="none" '
            f'marker-end="url(#{marker})"/>'
        )
        # the label beside its arrow (clear of the line and the arrowhead), on a white halo
        if sx == ex:
            lx, ly, anchor = sx - 12, (sy + ey) / 2 + 3, "end"  # left: diagonals go right
        else:
            lx, ly, anchor = sx + (ex - sx) * 0.6, sy + (ey - sy) * 0.6 - 7, "middle"
        parts.append(
            f'<text class="label" x="{lx}" y="{ly}" font-size="10" fill="#57606a" '
            f'text-anchor="{anchor}" paint-order="stroke" stroke="#fff" stroke-width="3">'
            f"{escape(event.value)}</text>"
        )
    for state in pos:
        x, y = xy(state)
        if state == current:
            fill, stroke, cls = "#fff1c2", "#bf8700", "state current"
        elif state in path:
            fill, stroke, cls = "#dafbe1", "#1a7f37", "state taken"
        else:
            fill, stroke, cls = "#f6f8fa", "#8c959f", "state"
        parts.append(
            f'<g class="{cls}" data-state="{escape(state)}"><rect x="{x}" y="{y}" width="{BOX_W}" '
            f'height="{BOX_H}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
            f'<text x="{x + BOX_W / 2}" y="{y + BOX_H / 2 + 4}" text-anchor="middle" font-size="12" '
            f'font-family="monospace">{escape(state)}</text></g>'
        )
    if closed:
        x, y = xy(current)
        parts.append(
            f'<text class="closed" x="{x + BOX_W + 6}" y="{y + BOX_H / 2 + 4}" font-size="12" '
            f'fill="#cf222e">closed: {escape(closed)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
