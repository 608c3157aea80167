#!/usr/bin/env python3
"""Reads a subscribed calendar (a webcal feed) with the `icalendar` library and prints its events as JSON.

Usage:
    feed_check.py FILE

Prints {"method", "name", "errors", "events": [{"uid", "sequence", "status", "start", "end", "summary"}]}, times in
UTC (2026-12-14T06:00:00Z) as icalendar resolves their TZID. Exit status 1 and the reason on stderr when the file
does not parse.
"""
import json
import sys
from datetime import timezone

try:
    import icalendar
except ImportError:  # pragma: no cover
    print("icalendar is not installed: run scripts/python-env.sh", file=sys.stderr)
    sys.exit(1)


def utc(prop) -> str:
    return prop.dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    try:
        calendar = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
    except Exception as error:
        print(f"parse failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    errors = [f"{c.name}: {e}" for c in calendar.walk() for e in (getattr(c, "errors", []) or [])]
    events = [
        {
            "uid": str(e["UID"]),
            "sequence": int(e.get("SEQUENCE", 0)),
            "status": str(e.get("STATUS", "")),
            "start": utc(e["DTSTART"]),
            "end": utc(e["DTEND"]),
            "summary": str(e.get("SUMMARY", "")),
        }
        for e in calendar.walk("VEVENT")
    ]
    print(
        json.dumps(
            {
                "method": str(calendar.get("METHOD", "")),
                "name": str(calendar.get("X-WR-CALNAME", "")),
                "errors": errors,
                "events": events,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
