"""Shields-style SVG badges: a grey label on the left, a coloured message on the right.

Text widths are estimated from Verdana 11px character widths (what shields.io renders with), so
badges look right without a font file.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

STATUS_COLOURS = {
    "operational": "#4c1",
    "degraded": "#dfb317",
    "down": "#e05d44",
    "unknown": "#9f9f9f",
}
_NARROW = set("fijlrtI.,:;!|'()[] /-")
_WIDE = set("mwMWOQG@%")


def text_width(text: str) -> float:
    """Approximate rendered width in pixels of `text` in Verdana 11px."""
    width = 0.0
    for ch in text:
        if ch in _NARROW:
            width += 3.9
        elif ch in _WIDE:
            width += 10.0
        elif ch.isupper() or ch.isdigit():
            width += 7.3
        else:
            width += 6.6
    return width


def uptime_colour(ratio: float | None) -> str:
    if ratio is None:
        return STATUS_COLOURS["unknown"]
    if ratio >= 0.999:
        return "#4c1"
    if ratio >= 0.99:
        return "#97ca00"
    if ratio >= 0.95:
        return "#dfb317"
    return "#e05d44"


def badge(label: str, message: str, colour: str) -> str:
    """An SVG document of a flat badge reading `label | message`."""
    lw = round(text_width(label) + 10)
    mw = round(text_width(message) + 10)
    total = lw + mw
    label_x, message_x = lw / 2, lw + mw / 2
    lbl, msg = escape(label), escape(message)
    title = escape(f"{label}: {message}", {'"': "&quot;"})
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}">'
        f"<title>{title}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" '
        'stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{mw}" height="20" fill="{colour}"/>'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{label_x}" y="15" fill="#010101" fill-opacity=".3">{lbl}</text>'
        f'<text x="{label_x}" y="14">{lbl}</text>'
        f'<text x="{message_x}" y="15" fill="#010101" fill-opacity=".3">{msg}</text>'
        f'<text x="{message_x}" y="14">{msg}</text></g></svg>'
    )


def status_badge(target: str, status: str) -> str:
    return badge(target, status, STATUS_COLOURS.get(status, STATUS_COLOURS["unknown"]))


def uptime_badge(window: str, ratio: float | None) -> str:
    """`uptime 30d | 99.95%`; `no data` when nothing was probed in the window."""
    message = "no data" if ratio is None else _percent(ratio)
    return badge(f"uptime {window}", message, uptime_colour(ratio))


def _percent(ratio: float) -> str:
    text = f"{ratio * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"
