"""brownout's incidents as an Atom 1.0 feed (RFC 4287) and an RSS 2.0 feed: pure, from
`monitor.api.public.FeedItem`s to XML text.

Each incident is one entry whose id (`guid`) stays the same for its whole life (a UUID derived
from its target and start, `monitor.api.public.guid`); its `updated` moves when it escalates or
ends, so readers show it again. Text is escaped by the XML writer (`xml.etree.ElementTree`),
never by hand. Under the public-mode rules: target, status words, reasons and times only.
"""

from __future__ import annotations

import email.utils
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from monitor.api.public import FeedItem
from monitor.durations import format_duration
from monitor.result import format_ts

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What a feed says of itself: `feed_id` a stable IRI, `self_url` where it is served,
    `link` the page a reader opens (the status page when configured)."""

    title: str
    feed_id: str
    self_url: str
    link: str
    now: datetime


def _title(item: FeedItem) -> str:
    i = item.incident
    reasons = f" ({', '.join(i.reasons)})" if i.reasons else ""
    state = "resolved" if i.end else "ongoing"
    return f"{i.target} {i.worst.value}{reasons}: {state}"


def _text(item: FeedItem, now: datetime) -> str:
    i = item.incident
    began = f"{i.start:%Y-%m-%d %H:%M} UTC"
    lasted = format_duration(max(60, round(((i.end or now) - i.start).total_seconds() / 60) * 60))
    if i.end:
        lines = [
            f"{i.target} was in trouble from {began} to {i.end:%Y-%m-%d %H:%M} UTC ({lasted})."
        ]
    else:
        lines = [f"{i.target} has been in trouble since {began} ({lasted} so far)."]
    lines.append(f"At worst it was {i.worst.value}.")
    if i.reasons:
        lines.append(f"Reasons: {', '.join(i.reasons)}.")
    return " ".join(lines)


def _tostring(root: ET.Element) -> str:
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


def atom(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    """The Atom document: feed id, title, updated, author and self link; per entry id,
    title, published, updated, category (the worst status), alternate link and text content."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", info.feed_id)
    sub(feed, "title", info.title)
    updated = max((it.updated for it in items), default=info.now)
    sub(feed, "updated", format_ts(updated))
    author = sub(feed, "author")
    sub(author, "name", "brownout")
    sub(feed, "link", rel="self", href=info.self_url, type="application/atom+xml")
    sub(feed, "link", rel="alternate", href=info.link)
    sub(feed, "generator", "brownout")
    for item in items:
        entry = sub(feed, "entry")
        sub(entry, "id", item.guid)
        sub(entry, "title", _title(item))
        sub(entry, "published", format_ts(item.incident.start))
        sub(entry, "updated", format_ts(item.updated))
        sub(entry, "category", term=item.incident.worst.value)
        sub(entry, "link", rel="alternate", href=info.link)
        sub(entry, "content", _text(item, info.now), type="text")
    return _tostring(feed)


def rss(info: FeedInfo, items: Sequence[FeedItem]) -> str:
    """The RSS 2.0 document: channel title, link, description, lastBuildDate and an
    `atom:link rel=self`; per item title, link, description, guid (not a permalink), pubDate
    (the start), category, and `atom:updated` (its last change: RSS has no element of its own)."""
    ET.register_namespace("atom", ATOM_NS)
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = info.title
    ET.SubElement(channel, "link").text = info.link
    ET.SubElement(
        channel, "description"
    ).text = "Incidents brownout detected: targets degraded or down against their own baseline."
    updated = max((it.updated for it in items), default=info.now)
    ET.SubElement(channel, "lastBuildDate").text = email.utils.format_datetime(updated)
    ET.SubElement(channel, "generator").text = "brownout"
    ET.SubElement(
        channel,
        f"{{{ATOM_NS}}}link",
        {"rel": "self", "href": info.self_url, "type": "application/rss+xml"},
    )
    for item in items:
        el = ET.SubElement(channel, "item")
        ET.SubElement(el, "title").text = _title(item)
        ET.SubElement(el, "link").text = info.link
        ET.SubElement(el, "description").text = _text(item, info.now)
        ET.SubElement(el, "guid", {"isPermaLink": "false"}).text = item.guid
        ET.SubElement(el, "pubDate").text = email.utils.format_datetime(item.incident.start)
        ET.SubElement(el, "category").text = item.incident.worst.value
        ET.SubElement(el, f"{{{ATOM_NS}}}updated").text = format_ts(item.updated)
    return _tostring(root)
