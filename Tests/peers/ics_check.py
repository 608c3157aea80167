#!/usr/bin/env python3
"""Parses an iCalendar file with the `icalendar` library, a real, independent parser, and prints what it read as JSON.

Usage:
    ics_check.py FILE

Times are resolved twice. "utc" resolves a TZID through the VTIMEZONE in the file, built with icalendar's own
VTIMEZONE support (`Timezone.to_tz(lookup_tzid=False)`), so it is right only if the VTIMEZONE is. "utc_by_name"
is icalendar's ordinary reading, which for a known IANA name uses the system's zoneinfo and ignores the file.

For each VTIMEZONE, "hourly_mismatches" compares its offsets with zoneinfo's for the same name at every hour from
1 January of the year before the event to the end of the event's last year (the span the VTIMEZONE must cover).

Exit status: 0 and the JSON on stdout when the file parses; 1 and the reason on stderr when it does not.
"""
import json
import sys
from datetime import datetime, timedelta, timezone

try:
    import icalendar
    from icalendar.timezone import tzp
except ImportError:  # pragma: no cover
    print("icalendar is not installed: run scripts/python-env.sh", file=sys.stderr)
    sys.exit(1)

try:
    from zoneinfo import ZoneInfo
except ImportError:  # pragma: no cover
    ZoneInfo = None


def iso_utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def address(prop) -> dict:
    value = str(prop)
    return {
        "address": value[len("mailto:"):] if value.lower().startswith("mailto:") else value,
        "cn": prop.params.get("CN"),
        "role": prop.params.get("ROLE"),
        "partstat": prop.params.get("PARTSTAT"),
        "rsvp": prop.params.get("RSVP"),
    }


def as_list(value) -> list:
    """A property that may occur several times: icalendar gives a list for several, the value for one."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def observance_time(prop) -> str:
    return prop.dt.strftime("%Y-%m-%dT%H:%M:%S")


def offset_seconds(prop) -> int:
    return int(prop.td.total_seconds())


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    raw = open(sys.argv[1], "rb").read()
    try:
        calendar = icalendar.Calendar.from_ical(raw)
    except Exception as error:  # icalendar raises ValueError and others for malformed input
        print(f"parse failed: {type(error).__name__}: {error}", file=sys.stderr)
        return 1

    errors = []
    for component in calendar.walk():
        for error in getattr(component, "errors", []) or []:
            errors.append(f"{component.name}: {error}")

    vtimezones = {}
    timezone_report = []
    for vtz in calendar.walk("VTIMEZONE"):
        tzid = str(vtz["TZID"])
        vtimezones[tzid] = vtz.to_tz(tzp, lookup_tzid=False)
        observances = []
        for sub in vtz.subcomponents:
            rdates = [observance_time(p) for rdate in as_list(sub.get("RDATE")) for p in rdate.dts]
            observances.append(
                {
                    "kind": sub.name,
                    "dtstart": observance_time(sub["DTSTART"]),
                    "rdates": rdates,
                    "rrule": sub["RRULE"].to_ical().decode() if "RRULE" in sub else None,
                    "offset_from": offset_seconds(sub["TZOFFSETFROM"]),
                    "offset_to": offset_seconds(sub["TZOFFSETTO"]),
                    "tzname": str(sub["TZNAME"]) if "TZNAME" in sub else None,
                }
            )
        timezone_report.append({"tzid": tzid, "observances": observances})

    events = calendar.walk("VEVENT")
    if len(events) != 1:
        print(f"expected one VEVENT, found {len(events)}", file=sys.stderr)
        return 1
    event = events[0]

    tzids_used = []

    def when(name: str) -> dict:
        prop = event[name]
        value = prop.dt
        tzid = prop.params.get("TZID")
        result = {"tzid": tzid, "utc_by_name": iso_utc(value)}
        if tzid is not None:
            tzids_used.append(tzid)
            naive = value.replace(tzinfo=None)
            result["local"] = naive.strftime("%Y-%m-%dT%H:%M:%S")
            if tzid in vtimezones:
                result["utc"] = iso_utc(tzp.localize(naive, vtimezones[tzid]))
        else:
            result["utc"] = iso_utc(value)
        return result

    start = when("DTSTART")
    end = when("DTEND")
    stamp = event["DTSTAMP"].dt

    # Compare every VTIMEZONE with zoneinfo over the span it has to cover.
    first_year = datetime.fromisoformat(start["utc"].replace("Z", "+00:00")).year - 1
    last_year = datetime.fromisoformat(end["utc"].replace("Z", "+00:00")).year
    for report in timezone_report:
        mismatches = []
        hours = 0
        if ZoneInfo is not None:
            reference = ZoneInfo(report["tzid"])
            defined = vtimezones[report["tzid"]]
            moment = datetime(first_year, 1, 1, 12, tzinfo=timezone.utc)
            stop = datetime(last_year + 1, 1, 1, tzinfo=timezone.utc) - timedelta(hours=14)
            while moment < stop:
                hours += 1
                mine = moment.astimezone(defined).utcoffset()
                theirs = moment.astimezone(reference).utcoffset()
                if mine != theirs and len(mismatches) < 5:
                    mismatches.append(f"{iso_utc(moment)}: file {mine}, zoneinfo {theirs}")
                moment += timedelta(hours=1)
        report["hours_checked"] = hours
        report["hourly_mismatches"] = mismatches

    lines = raw.split(b"\r\n")
    print(
        json.dumps(
            {
                "version": str(calendar.get("VERSION")),
                "prodid": str(calendar.get("PRODID")),
                "calscale": str(calendar.get("CALSCALE")),
                "method": str(calendar.get("METHOD")),
                "uid": str(event["UID"]),
                "sequence": int(event["SEQUENCE"]),
                "dtstamp": iso_utc(stamp),
                "dtstart": start,
                "dtend": end,
                "status": str(event["STATUS"]),
                "summary": str(event["SUMMARY"]),
                "description": str(event["DESCRIPTION"]),
                "location": str(event["LOCATION"]) if "LOCATION" in event else None,
                "url": str(event["URL"]) if "URL" in event else None,
                "organizer": address(event["ORGANIZER"]),
                "attendees": [address(a) for a in as_list(event.get("ATTENDEE"))],
                "vtimezones": timezone_report,
                "tzids_used": tzids_used,
                "errors": errors,
                "bare_newlines": sum(line.count(b"\n") + line.count(b"\r") for line in lines),
                "longest_line_octets": max(len(line) for line in lines),
            },
            ensure_ascii=False,
            sort_keys=True,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
