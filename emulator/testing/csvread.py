"""A strict RFC 4180 reader that remembers which fields were quoted (NULL vs '')."""

from __future__ import annotations


def parse(text: str) -> list[list[tuple[str, bool]]]:
    rows: list[list[tuple[str, bool]]] = []
    row: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            i += 1
            buf = []
            while True:
                j = text.index('"', i)
                buf.append(text[i:j])
                if j + 1 < n and text[j + 1] == '"':
                    buf.append('"')
                    i = j + 2
                    continue
                i = j + 1
                break
            row.append(("".join(buf), True))
        else:
            j = i
            while j < n and text[j] not in ",\r\n":
                j += 1
            row.append((text[i:j], False))
            i = j
        if i < n and text[i] == ",":
            i += 1
            if i == n:
                row.append(("", False))
            continue
        if text.startswith("\r\n", i):
            i += 2
        elif i < n and text[i] == "\n":
            i += 1
        rows.append(row)
        row = []
    if row:
        rows.append(row)
    return rows


def typed(field: tuple[str, bool]) -> object:
    """Back to SQLite values: unquoted empty = NULL, unquoted = number, quoted = text."""
    value, quoted = field
    if quoted:
        return value
    if value == "":
        return None
    return int(value) if value.lstrip("-").isdigit() else float(value)
