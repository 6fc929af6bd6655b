"""The event-rate model (the profile's `events` section) from `event_store.expanded`.

Every estimate is aggregate SQL in the source engine (DuckDB or BigQuery): counts of events
and distinct people per cell, student-days per course, per-offering moments of the
per-enrollment counts. No event row comes back to Python.

The model the generator reads (pipeline/generate/_events/rates.py): expected events per enrolled
student per day = tool rate (in a course that uses the tool) × cip_family × course_level ×
day-in-term shape × a lognormal engagement (mean 1). Here:

- exposure counts enrollment rows (the generator draws per enrollment), people are counted
  distinct for the k rule;
- a tool's `rate` is its student events per student-day in the offerings that use it,
  divided by the mean day shape of the days the data covers (so the generator's volume over
  those days matches the source); `instructor_rate` likewise per instructor-day;
- `adoption` is the share of offerings (with students, in a term the events cover, and holding
  the tool's content where the source has that table) with at least one event of the tool;
- `cip_family` / `course_level` are the student-event rate of a family / level relative to
  the overall rate; `day_in_term` is the rate by day index from the term's begin date,
  normalized to mean 1; `diurnal` the share of events per UTC hour;
- `engagement_sigma` is a Poisson-lognormal moment estimate from the spread of per-enrollment
  counts inside each offering (students of one offering share course, tools and days);
- the gradebook's own events (AssignableEvent/Submitted, GradeEvent/Graded) are left out of
  the rates: the generator makes them from the submissions and grades of the context store.
  `gradebook_events` holds the share of submitted (graded) results over the covered days that
  have their event in the source (a source whose event store leaves them out has none).

Privacy: a tool used by fewer than k people is not published; an action cell, a family, a
level, a day or an hour resting on fewer than k people is suppressed; every such action goes
to the privacy manifest.
"""

from __future__ import annotations

import copy
import re

from distributions._estimators import Missing
from distributions._event_queries import (
    CONTENT,
    LONE_APP,
    QUALIFIED,
    TABLE,
    TOOL_OBJECTS,
    has_events,
)
from distributions._event_shapes import EventShapes
from distributions._gradebook_events import gradebook_event_shares
from distributions._withdrawal_fractions import active_shares
from pipeline.udp import generic_object_type, is_valid_combination
from pipeline.udp._sql_text import string_literal


class EventRates(EventShapes):
    """Estimates the `events` section: tools, their rates, adoption and action mixes, with
    the shapes of EventShapes."""

    def estimate(self) -> dict | None:
        """The `events` section, or None when no event survives (the default is kept)."""
        events = copy.deepcopy(self.default)
        notes = self.p.notes
        said = {"ed_app.id": f"nor an app's name: every event is counted as one application's, "
                             f"{LONE_APP!r}" if "ed_app.name" in self._absent else
                             "apps are told apart by their names",
                "ed_app.name": "each app is named by its id's host",
                "membership.roles": "the actor's role comes from their enrollment in the course"}
        for column in self._absent:
            if column != "ed_app.name" or "ed_app.id" not in self._absent:  # one note for both
                notes.append(f"/events: {QUALIFIED} has no {column}: {said[column]}")
        if "tool" not in self.r.tables[TABLE]:
            notes.append(f"/events/tools: {QUALIFIED} has no `tool` column: tools are derived "
                         "from ed_app (other applications: their name) and, for Canvas, the "
                         "object's table or Caliper type")
        self.p.counts[QUALIFIED] = int(self.r.scalar(f"SELECT COUNT(*) FROM "
                                                     f"{self.r.rel(TABLE)}"))
        self._placement_notes()
        covered = self._rows("SELECT term, days FROM cov")
        if not covered:
            notes.append(f"/events: no event of {QUALIFIED} falls inside a term: kept the "
                         "default event-rate model")
            return None
        days = {row["term"]: int(row["days"]) for row in covered}
        # from here on the covered days are a literal: no query rescans the events for them
        self._cov = " UNION ALL ".join(f"SELECT {_literal(t)} AS term, {d} AS days"
                                       for t, d in days.items())
        self._lost = self._lost_days(days)
        notes.append(f"/events: estimated from {QUALIFIED} over {len(days)} term(s), "
                     f"{min(days.values())}–{max(days.values())} day(s) from each term's "
                     "begin date; the gradebook's Submitted/Graded events are left out "
                     "(the generator makes them from the context store)")
        day_shape, day_mean = self._day_in_term()
        tools, apps = self._tools(day_mean)
        if not tools:
            notes.append("/events: no tool is used by k people: kept the default event-rate "
                         "model")
            return None
        events["tools"], events["ed_apps"] = tools, apps
        events["day_in_term"] = day_shape
        events["cip_family"] = self._relative("family", "/events/cip_family")
        events["course_level"] = self._relative("level", "/events/course_level")
        diurnal = self._diurnal()
        if diurnal:
            events["diurnal"] = diurnal
        sigma = self._sigma()
        if sigma is not None:
            events["engagement_sigma"] = sigma
        gradebook = gradebook_event_shares(self)
        if gradebook is not None:
            events["gradebook_events"] = gradebook
        events["description"] = (
            "Estimated from event_store.expanded by campus-synth profile: tool rates per "
            "student-day in courses using the tool, adoption, action mixes, CIP-family and "
            "course-level multipliers, day-in-term shape, diurnal shape and engagement spread; "
            "weekday, calendar_shape and roles kept from the default (day_in_term replaces "
            "the calendar shape).")
        notes.append("/events: weekday, calendar_shape and roles are kept from the default "
                     "profile (day_in_term replaces weekday × calendar_shape)")
        return events

    def _placement_notes(self) -> None:
        row = self._rows(
            "SELECT SUM(CASE WHEN day < 0 THEN 1 ELSE 0 END) AS early, "
            "SUM(CASE WHEN day >= term_days THEN 1 ELSE 0 END) AS late, "
            "COUNT(*) AS placed, (SELECT COUNT(*) FROM raw) AS total, "
            "(SELECT COUNT(*) FROM raw WHERE tool IS NULL) AS untooled FROM placed")[0]
        total = int(row["total"] or 0)
        unplaced = total - int(row["placed"] or 0)
        for count, what in ((row["early"], "dated before their term's begin date"),
                            (row["late"], "dated after their term's end date"),
                            (unplaced, "of a course offering (or term) not in the source"),
                            (row["untooled"], "without a tool (no ed_app name)")):
            if count:
                self.p.notes.append(f"/events: {int(count):,} event(s) {what} are ignored")
        if not total:
            self.p.notes.append(f"/events: {QUALIFIED} has no event besides the gradebook's")

    # ---- tools -----------------------------------------------------------------------------
    def _tools(self, day_mean: float) -> tuple[dict, dict]:
        people = {row["tool"]: int(row["people"]) for row in self._rows(
            "SELECT tool, COUNT(DISTINCT person) AS people FROM ev WHERE stream > 0 "
            "GROUP BY tool")}
        cells = self._rows(
            "SELECT tool, stream, type, action, otype, COUNT(*) AS n, "
            "COUNT(DISTINCT person) AS people FROM ev WHERE stream > 0 "
            "GROUP BY tool, stream, type, action, otype")
        streams = {(row["tool"], row["stream"]): row for row in self._rows(
            "SELECT tool, stream, COUNT(*) AS n, COUNT(DISTINCT person) AS people "
            "FROM ev WHERE stream > 0 GROUP BY tool, stream")}
        noised = self.guard.noise("/events/tools", {key: float(row["n"])
                                                    for key, row in streams.items()})
        for key, row in streams.items():
            row["n"] = noised[key]
        exposure = {row["tool"]: row for row in self._rows(
            "SELECT u.tool, COUNT(*) AS offerings, SUM(osize.sdays) AS sdays, "
            "SUM(osize.staff * osize.days) AS idays FROM (SELECT DISTINCT tool, offering FROM ev "
            "WHERE stream > 0) AS u JOIN osize ON u.offering = osize.offering "
            "WHERE osize.students > 0 GROUP BY u.tool")}
        apps = self._apps()
        keys = {}
        for raw in sorted(people, key=lambda t: (-people[t], str(t))):
            key = _tool_key(raw)
            if key in keys.values():  # two spellings of one key: the busier one wins
                self.p.notes.append(f"/events/tools/{key}: a second spelling of the tool, "
                                    f"used by {people[raw]} people, is left out")
                continue
            keys[raw] = key
        tools, used_apps = {}, {}
        for raw, key in keys.items():
            path = f"/events/tools/{key}"
            if people[raw] < self.k:
                self.guard.record(path, "suppressed", f"a tool used by fewer than k={self.k} "
                                  "people is not published", people[raw])
                continue
            student = streams.get((raw, 1))
            if student is None or student["people"] < self.k or raw not in exposure:
                self.guard.record(path, "suppressed", f"fewer than k={self.k} students use the "
                                  "tool", student["people"] if student else 0)
                continue
            spec = self._tool(raw, key, path, cells, streams, exposure[raw], day_mean, apps)
            if spec is None:
                continue
            tools[key] = spec
            used_apps[spec["ed_app"]] = apps.get(raw, {}).get("app") or \
                self.default["ed_apps"][spec["ed_app"]]
        used_apps.setdefault("canvas", self.default["ed_apps"]["canvas"])  # the generator's
        return tools, used_apps

    def _tool(self, raw, key, path, cells, streams, exposure, day_mean, apps) -> dict | None:
        default = self.default["tools"].get(key, {})
        app = apps.get(raw)
        spec = {"ed_app": app["key"] if app else default.get("ed_app", "canvas"),
                "object": default.get("object") or _object_of(key, app, cells, raw)}
        if "name" in default:
            spec["name"] = default["name"]
        adoption = self._adoption(exposure, spec["object"])
        spec["adoption"] = round(min(max(adoption, 0.0), 1.0), 4)
        student = streams[(raw, 1)]
        spec["rate"] = round(float(student["n"]) / float(exposure["sdays"]) / day_mean, 5)
        mix = self._mix(path + "/student", [c for c in cells if c["tool"] == raw and
                                            c["stream"] == 1])
        if not mix:
            self.guard.record(path, "suppressed", f"no action of the tool is used by k={self.k}"
                              " students", student["people"])
            return None
        spec["student"] = mix
        staff = streams.get((raw, 2))
        if staff is None or staff["people"] < self.k or not exposure["idays"]:
            if staff is not None:
                self.guard.record(path + "/instructor", "suppressed",
                                  f"fewer than k={self.k} instructors use the tool",
                                  staff["people"])
            spec["instructor_rate"], spec["instructor"] = 0.0, []
            return spec
        spec["instructor"] = self._mix(path + "/instructor", [
            c for c in cells if c["tool"] == raw and c["stream"] == 2])
        spec["instructor_rate"] = round(float(staff["n"]) / float(exposure["idays"])
                                        / day_mean, 5) if spec["instructor"] else 0.0
        return spec

    def _mix(self, path: str, cells: list[dict]) -> list[dict]:
        """Action shares; a (type, action, object type) cell of fewer than k people is
        suppressed (its events are not redistributed: the shares of the rest are kept)."""
        cells = self._caliper_objects(path, cells)
        counts = self.guard.noise(path, {(c["type"], c["action"], c["otype"]): float(c["n"])
                                         for c in cells})
        people = {(c["type"], c["action"], c["otype"]): int(c["people"]) for c in cells}
        small = [key for key in counts if people[key] < self.k or None in key
                 or not re.fullmatch(r"[A-Za-z]*Event", key[0] or "")]
        # a (type, action, object) outside Caliper 1.1 could not be generated as an event
        foreign = [key for key in counts if key not in small
                   and not is_valid_combination(*key)]
        if small:
            self.guard.record(path, "suppressed", f"{len(small)} action(s) used by fewer than "
                              f"k={self.k} people (or without a Caliper type)",
                              sum(counts[key] for key in small))
        if foreign:
            self.p.notes.append(f"{path}: left out {len(foreign)} (type, action, object type) "
                              "combination(s) that are not Caliper 1.1 events: " + ", ".join(
                                  " ".join(key) for key in sorted(foreign)[:5]))
            small += foreign
        kept = {key: n for key, n in counts.items() if key not in small and n > 0}
        total = sum(kept.values())
        return [{"type": t, "action": a, "object_type": o, "p": round(n / total, 6)}
                for (t, a, o), n in sorted(kept.items(), key=lambda i: -i[1])]

    def _caliper_objects(self, path: str, cells: list[dict]) -> list[dict]:
        """The cells with each object type that Caliper 1.1 does not give its (type, action)
        (a source's own kinds, such as a VLE's `forumng` or `quiz` under NavigatedTo, or no
        type at all) counted as the generic one it does, merged and noted: the events keep
        their tool, rate and action, where leaving them out lost the tool's whole mix. The
        merged cell's people are its largest part's, a lower bound for the k rule."""
        merged, renamed = {}, set()
        for c in cells:
            key = (c["type"], c["action"], c["otype"])
            if c["type"] and c["action"] and not is_valid_combination(*key):
                generic = generic_object_type(c["type"], c["action"])
                if generic is not None:
                    renamed.add(str(c["otype"]))
                    key = (c["type"], c["action"], generic)
            cell = merged.setdefault(key, {"type": key[0], "action": key[1], "otype": key[2],
                                           "n": 0, "people": 0})
            cell["n"] += int(c["n"])
            cell["people"] = max(cell["people"], int(c["people"]))
        if renamed:
            self.p.notes.append(f"{path}: {len(renamed)} object type(s) that Caliper 1.1 does "
                                "not give their event's action counted as its generic type "
                                "(DigitalResource for navigation and views): "
                                + ", ".join(sorted(renamed)[:8]))
        return list(merged.values())

    def _adoption(self, exposure: dict, kind: str) -> float:
        """Offerings using the tool / offerings that could: with students, in a covered term,
        and holding the tool's content (where the source has that table)."""
        base = "SELECT COUNT(*) AS n FROM osize WHERE students > 0"
        table = CONTENT.get(kind)
        if table and self.r.has(table[0], "course_offering_id"):
            content = f"SELECT c.course_offering_id FROM {self.r.rel(table[0])} AS c"
            if table[1] and self.r.has(table[1], "wiki_id"):  # pages: wikis that have pages
                content += (f" WHERE c.wiki_id IN (SELECT x.wiki_id FROM "
                            f"{self.r.rel(table[1])} AS x)")
            base += f" AND offering IN ({content})"
        if base not in self._possible:
            self._possible[base] = int(self._rows(base)[0]["n"] or 0)
        possible = self._possible[base]
        return float(exposure["offerings"]) / possible if possible else 0.0

    def _lost_days(self, days: dict) -> str:
        """Per term, the covered days a withdrawn student enrollment has no events in the
        generator's runs (after its withdrawal), as a literal: the student-days an event
        rate is learned over count only those it would generate. Counting every day of the
        withdrawn, a converted source (a third withdrawn, their clicks ending when they
        left) came back with 14 % fewer events than it has."""
        lengths = {row["term"]: int(row["term_days"]) for row in
                   self._rows("SELECT term, term_days FROM term")}
        return " UNION ALL ".join(
            f"SELECT {_literal(t)} AS term, "
            f"{d - active_shares(self.engagement, d, lengths[t]).sum():.6f} AS days"
            for t, d in days.items())

    def _apps(self) -> dict:
        """Per tool: its (most frequent) ed_app, with the key the profile names it by."""
        rows = self._rows("SELECT tool, app_id AS id, app_name AS name, COUNT(*) AS n "
                          "FROM ev WHERE stream > 0 GROUP BY tool, app_id, app_name")
        best: dict = {}
        for row in rows:
            if row["id"] and row["name"] and (row["tool"] not in best or
                                              row["n"] > best[row["tool"]]["n"]):
                best[row["tool"]] = row
        out = {}
        for tool, row in best.items():
            key = re.sub(r"[^a-z0-9]+", "", row["name"].lower()) or "app"
            out[tool] = {"key": key, "app": {"id": row["id"], "name": row["name"]}}
        return out


def _literal(value) -> str:
    if isinstance(value, int | float):
        return repr(value)
    return string_literal(value)


def _tool_key(raw) -> str:
    key = re.sub(r"[^a-z0-9_]+", "_", str(raw or "").lower()).strip("_")
    return key if re.match(r"[a-z]", key) else f"tool_{key}" if key else "tool"


def _object_of(key: str, app: dict | None, cells: list[dict], raw) -> str:
    """The object kind of a tool the default does not know: its Canvas content, or from the
    Caliper type of what its events act on."""
    if key in TOOL_OBJECTS and (app is None or app["key"] == "canvas"):
        return TOOL_OBJECTS[key]
    types: dict = {}
    for c in cells:
        if c["tool"] == raw:
            types[c["otype"]] = types.get(c["otype"], 0) + int(c["n"])
    top = max(types, key=types.get) if types else None
    if top in ("VideoObject", "MediaObject", "AudioObject", "ImageObject"):
        return "media"
    if top == "SoftwareApplication":
        return "lti_tool"
    return "reading"


def event_part(p, profile: dict) -> None:
    """The profile's `events` section from event_store.expanded, or the default's, noted."""
    if not has_events(p.reader):
        p.notes.append(f"/events: the source has no {QUALIFIED} table: the event-rate model "
                       "is the default profile's")
        return
    try:
        estimated = EventRates(p, profile.get("engagement")).estimate()
    except Missing as missing:
        p.notes.append(f"/events: kept the default ({missing})")
        return
    if estimated is not None:
        profile["events"] = estimated
