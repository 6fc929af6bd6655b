"""The event-rate model (the profile's `events` section) from `event_store.expanded`.

Every estimate is aggregate SQL in the source engine (DuckDB or BigQuery): counts of events
and distinct people per cell, student-days per course, per-offering moments of the
per-enrollment counts. No event row comes back to Python.

The model the generator reads (pipeline/_events/rates.py): expected events per enrolled
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
- the gradebook's own events (AssignableEvent/Submitted, GradeEvent/Graded) are left out: the
  generator makes them from the submissions and grades of the context store.

Privacy: a tool used by fewer than k people is not published; an action cell, a family, a
level, a day or an hour resting on fewer than k people is suppressed; every such action goes
to the privacy manifest.
"""

from __future__ import annotations

import copy
import math
import re

from distributions._estimators import Missing, Reader
from distributions._sources import SourceError

TABLE = "expanded"
QUALIFIED = "event_store.expanded"
DAY = 86400
# columns the estimates need: (top-level column, nested field or None)
NEEDED = (("type", None), ("action", None), ("event_time", None), ("object", "type"),
          ("ed_app", "id"), ("person", "udp_id"), ("course_offering", "udp_id"))
# optional: without them the app's name comes from its id's host, the actor's role from
# the context store's enrollment of the person in the course
OPTIONAL = (("ed_app", "name"), ("membership", "roles"))
GRADEBOOK = (("AssignableEvent", "Submitted"), ("GradeEvent", "Graded"))
# Canvas tools by the context-store table an object is (object.entity) or its Caliper type
CANVAS_ENTITIES = {"module_item": "modules", "wiki_page": "pages", "file": "files",
                   "discussion": "discussions", "quiz": "quizzes",
                   "learner_activity": "assignments", "course_offering": "grades"}
CANVAS_TYPES = {"AssignableDigitalResource": "assignments", "Page": "pages",
                "Thread": "discussions", "Forum": "discussions", "Message": "discussions",
                "Assessment": "quizzes", "AssessmentItem": "quizzes", "WebPage": "grades",
                "DigitalResourceCollection": "modules"}
TOOL_OBJECTS = {v: k for k, v in CANVAS_ENTITIES.items()}
# the context-store table of an object kind (with course_offering_id), and the table of the
# rows themselves when they hang below it (a wiki's pages)
CONTENT = {"learner_activity": ("learner_activity", None), "file": ("file", None),
           "discussion": ("discussion", None), "quiz": ("quiz", None),
           "module_item": ("module_item", None), "wiki_page": ("wiki", "wiki_page")}
STAFF_WORDS = ("Instructor", "ContentDeveloper", "TeachingAssistant", "Administrator")


def has_events(reader: Reader) -> bool:
    return TABLE in reader.tables


def check_columns(reader: Reader) -> None:
    """One clear error if the event table lacks a column the estimates need."""
    columns = reader.tables[TABLE]
    for column, nested in NEEDED:
        if column not in columns:
            raise SourceError(f"{reader.source.label}: table {QUALIFIED}, column {column}: "
                              "missing (needed for the event-rate model)")
        if nested and not _has_field(columns[column], nested):
            raise SourceError(f"{reader.source.label}: table {QUALIFIED}, column "
                              f"{column}.{nested}: missing (needed for the event-rate model)")
    reader.col(TABLE, "event_time", "time", "e")  # a wrong type is an error here


def missing_optional(reader: Reader) -> list[str]:
    """The optional event columns the table lacks (`ed_app.name`, `membership.roles`)."""
    columns = reader.tables[TABLE]
    return [f"{c}.{n}" for c, n in OPTIONAL
            if c not in columns or not _has_field(columns[c], n)]


def _has_field(declared: str, name: str) -> bool:
    """Whether a STRUCT type (DuckDB `STRUCT(a T, ...)`, BigQuery `STRUCT<a T, ...>`) has
    a field `name` of some type (an all-null Parquet field, typed NULL, counts as absent)."""
    found = re.search(r'[(<,]\s*[`"]?' + re.escape(name) + r'[`"]?\s+(\w+)', declared)
    return found is not None and found.group(1).upper() != "NULL"


class EventRates:
    """Estimates the `events` section; `p` is the Profiler (reader, guard, notes, default)."""

    def __init__(self, p):
        self.p, self.r, self.s, self.guard, self.k = p, p.reader, p.reader.sql, p.guard, \
            p.guard.k
        self.default = p.default["events"]
        self.roles = self.default["roles"]
        self._possible: dict[str, int] = {}
        self._cov: str | None = None  # the days each term's events cover, once known
        self._int = "INT64" if self.s.dialect == "bigquery" else "BIGINT"
        self._absent = missing_optional(self.r)

    # ---- SQL building blocks ----------------------------------------------------------
    def _epoch(self, expr: str) -> str:
        if self.s.dialect == "bigquery":
            return f"UNIX_SECONDS(CAST({expr} AS TIMESTAMP))"
        return f"epoch({expr})"  # TIMESTAMPTZ, TIMESTAMP or DATE: seconds since the epoch, UTC

    def _field(self, column: str, name: str) -> str:
        return f"e.{self.s.ident(column)}.{self.s.ident(name)}"

    def _lower(self, expr: str) -> str:
        """Lowercase with every character outside a-z0-9 removed (`Top Hat` → `tophat`)."""
        if self.s.dialect == "bigquery":
            return f"REGEXP_REPLACE(LOWER({expr}), r'[^a-z0-9]+', '')"
        return f"regexp_replace(lower({expr}), '[^a-z0-9]+', '', 'g')"

    def _tool_expr(self) -> str:
        """The event's tool: campus-synth's own `tool` column, else derived from the ed_app
        and the object (Canvas objects → its tools, other ed_apps → their name)."""
        columns = self.r.tables[TABLE]
        if "tool" in columns:
            return self.s.text("e." + self.s.ident("tool"))
        app_name = self._app_name()
        app_id = self.s.text(self._field("ed_app", "id"))
        otype = self.s.text(self._field("object", "type"))
        canvas = (f"(LOWER({app_name}) = 'canvas' OR LOWER({app_id}) LIKE '%canvas%' OR "
                  f"LOWER({app_id}) LIKE '%instructure%')")
        cases = []
        if _has_field(columns["object"], "entity"):
            entity = self.s.text(self._field("object", "entity"))
            cases += [f"WHEN {entity} = '{k}' THEN '{v}'" for k, v in CANVAS_ENTITIES.items()]
        if _has_field(columns["object"], "name"):
            name = self.s.text(self._field("object", "name"))
            cases.append(f"WHEN {otype} = 'SoftwareApplication' AND {name} IS NOT NULL "
                         f"THEN {self._lower(name)}")
        cases += [f"WHEN {otype} = '{k}' THEN '{v}'" for k, v in CANVAS_TYPES.items()]
        canvas_tool = f"CASE {' '.join(cases)} ELSE 'files' END"
        return f"CASE WHEN {canvas} THEN {canvas_tool} ELSE {self._lower(app_name)} END"

    def _app_name(self) -> str:
        """ed_app.name, or without it the first label of the id's host
        (`https://kaltura.example.edu/` → `kaltura`)."""
        if "ed_app.name" not in self._absent:
            return self.s.text(self._field("ed_app", "name"))
        app_id = self.s.text(self._field("ed_app", "id"))
        if self.s.dialect == "bigquery":
            return f"NULLIF(REGEXP_EXTRACT({app_id}, r'^[A-Za-z]+://([^./:]+)'), '')"
        return f"NULLIF(regexp_extract({app_id}, '^[A-Za-z]+://([^./:]+)', 1), '')"

    def _stream(self) -> str:
        if "membership.roles" in self._absent:
            # the actor's stream from their enrollment in the event's course
            return ("COALESCE((SELECT MAX(x.stream) FROM enr AS x WHERE x.person = "
                    f"{self._field('person', 'udp_id')} AND x.offering = "
                    f"{self._field('course_offering', 'udp_id')}), 0)")
        roles = self.s.text(self._field("membership", "roles"))
        staff = " OR ".join(f"{roles} LIKE '%{w}%'" for w in STAFF_WORDS)
        return (f"CASE WHEN {roles} LIKE '%Learner%' THEN 1 WHEN {staff} THEN 2 "
                "ELSE 0 END")

    def _prefix(self) -> str:
        """CTEs: term (begin, days), off (term, family, level), ev (events with their day in
        term), cov (days each term's events cover), enr (students and staff per offering)."""
        r, s = self.r, self.s
        begin = self._epoch(r.col("academic_term", "term_begin_date", "time", "t"))
        end = self._epoch(r.col("academic_term", "term_end_date", "time", "t"))
        cip = r.col("course_offering", "cip_family", "text", "o") if r.has(
            "course_offering", "cip_family") else "NULL"
        level = r.col("course_offering", "course_level", "text", "o") if r.has(
            "course_offering", "course_level") else "NULL"
        time = self._epoch(r.col(TABLE, "event_time", "time", "e"))
        role = r.col("course_section_enrollment", "role", "text", "x")
        staff = ", ".join(f"'{n}'" for n, v in self.roles.items() if v["stream"] == "instructor")
        student = ", ".join(f"'{n}'" for n, v in self.roles.items() if v["stream"] == "student")
        gradebook = " OR ".join(f"(e.{s.ident('type')} = '{t}' AND e.{s.ident('action')} = '{a}')"
                                for t, a in GRADEBOOK)
        return f"""
WITH term AS (
  SELECT t.academic_term_id AS term, {begin} AS b,
         FLOOR(({end} - {begin}) / {DAY}) + 1 AS term_days
  FROM {r.rel('academic_term')} AS t WHERE {begin} IS NOT NULL AND {end} IS NOT NULL),
off AS (
  SELECT o.course_offering_id AS offering, o.academic_term_id AS term, {cip} AS family,
         {level} AS level FROM {r.rel('course_offering')} AS o),
enr AS (
  SELECT s.course_offering_id AS offering, x.person_id AS person,
         CASE WHEN {role} IN ({student or "''"}) THEN 1 WHEN {role} IN ({staff or "''"}) THEN 2
              ELSE 0 END AS stream
  FROM {r.rel('course_section_enrollment')} AS x JOIN {r.rel('course_section')} AS s
    ON x.course_section_id = s.course_section_id),
raw AS (
  SELECT {self._tool_expr()} AS tool, {s.text('e.' + s.ident('type'))} AS type,
         {s.text('e.' + s.ident('action'))} AS action,
         {s.text(self._field('object', 'type'))} AS otype,
         {s.text(self._field('ed_app', 'id'))} AS app_id,
         {self._app_name()} AS app_name,
         {self._stream()} AS stream, {self._field('person', 'udp_id')} AS person,
         {self._field('course_offering', 'udp_id')} AS offering, {time} AS ts
  FROM {r.rel(TABLE)} AS e WHERE NOT ({gradebook})),
placed AS (
  SELECT raw.*, off.term, off.family, off.level, term.term_days,
         CAST(FLOOR((raw.ts - term.b) / {DAY}) AS {self._int}) AS day
  FROM raw JOIN off ON raw.offering = off.offering JOIN term ON off.term = term.term),
ev AS (SELECT * FROM placed WHERE day >= 0 AND day < term_days AND tool IS NOT NULL),
cov AS ({self._cov or "SELECT term, LEAST(MAX(term_days), MAX(day) + 1) AS days FROM ev "
          "GROUP BY term"}),
osize AS (
  SELECT off.offering, off.term, off.family, off.level, cov.days,
         SUM(CASE WHEN enr.stream = 1 THEN 1 ELSE 0 END) AS students,
         SUM(CASE WHEN enr.stream = 2 THEN 1 ELSE 0 END) AS staff
  FROM enr JOIN off ON enr.offering = off.offering JOIN cov ON off.term = cov.term
  GROUP BY off.offering, off.term, off.family, off.level, cov.days)
"""

    def _rows(self, select: str) -> list[dict]:
        return self.r.rows(self._prefix() + select)

    # ---- the estimate --------------------------------------------------------------------
    def estimate(self) -> dict | None:
        """The `events` section, or None when no event survives (the default is kept)."""
        events = copy.deepcopy(self.default)
        notes = self.p.notes
        for column in self._absent:
            notes.append(f"/events: {QUALIFIED} has no {column}: "
                         + ("each app is named by its id's host" if column == "ed_app.name" else
                            "the actor's role comes from their enrollment in the course"))
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
            "SELECT u.tool, COUNT(*) AS offerings, SUM(osize.students * osize.days) AS sdays, "
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
        counts = self.guard.noise(path, {(c["type"], c["action"], c["otype"]): float(c["n"])
                                         for c in cells})
        people = {(c["type"], c["action"], c["otype"]): int(c["people"]) for c in cells}
        small = [key for key in counts if people[key] < self.k or None in key
                 or not re.fullmatch(r"[A-Za-z]*Event", key[0] or "")]
        if small:
            self.guard.record(path, "suppressed", f"{len(small)} action(s) used by fewer than "
                              f"k={self.k} people (or without a Caliper type)",
                              sum(counts[key] for key in small))
        kept = {key: n for key, n in counts.items() if key not in small and n > 0}
        total = sum(kept.values())
        return [{"type": t, "action": a, "object_type": o, "p": round(n / total, 6)}
                for (t, a, o), n in sorted(kept.items(), key=lambda i: -i[1])]

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

    # ---- shapes ----------------------------------------------------------------------------
    def _day_in_term(self) -> tuple[list[float] | None, float]:
        """(day_in_term, exposure-weighted mean of it over the covered days)."""
        rows = self._rows("SELECT day, COUNT(*) AS n, COUNT(DISTINCT person) AS people "
                          "FROM ev WHERE stream = 1 GROUP BY day")
        terms = self._rows("SELECT days, SUM(students) AS students, MAX(term_days) AS length "
                           "FROM osize JOIN term ON osize.term = term.term GROUP BY days")
        if not rows or not terms:
            return None, 1.0
        length = int(max(t["length"] for t in terms))
        covered = int(max(t["days"] for t in terms))
        exposure = [sum(float(t["students"]) for t in terms if t["days"] > d)
                    for d in range(covered)]
        counts = self.guard.noise("/events/day_in_term", {int(r["day"]): float(r["n"])
                                                          for r in rows})
        people = {int(r["day"]): int(r["people"]) for r in rows}
        rate = {}
        small = []
        for d in range(covered):
            if people.get(d, 0) < self.k or exposure[d] <= 0:
                small.append(d)
            else:
                rate[d] = counts.get(d, 0.0) / exposure[d]
        if len(rate) < 7:
            self.p.notes.append("/events/day_in_term: fewer than 7 days with k people: the "
                                "default's weekday × calendar shape is kept")
            return None, 1.0
        weekly = _weekly(rate)
        if small:
            self.guard.record("/events/day_in_term", "suppressed", f"{len(small)} day(s) with "
                              f"fewer than k={self.k} active people: their weekday's mean is "
                              "published instead", sum(people.get(d, 0) for d in small))
        shape = [rate.get(d, weekly[d % 7]) for d in range(covered)]
        if covered < length:
            self.p.notes.append(f"/events/day_in_term: the events cover {covered} of the "
                                f"{length} days of a term: the later days repeat the covered "
                                "days' weekday pattern")
            shape += [weekly[d % 7] for d in range(covered, length)]
        mean = sum(shape) / len(shape)
        shape = [round(v / mean, 4) for v in shape]
        weight = sum(exposure[d] for d in range(covered))
        day_mean = sum(shape[d] * exposure[d] for d in range(covered)) / weight
        return shape, day_mean

    def _relative(self, dim: str, path: str) -> dict:
        """Student-event rate of each family (level) relative to the overall rate; a value
        with fewer than k students is dropped (the generator then uses 1.0)."""
        rows = self._rows(
            f"SELECT sz.{dim} AS v, SUM(sz.students * sz.days) AS sdays, "
            f"SUM(COALESCE(c.n, 0)) AS n FROM osize AS sz LEFT JOIN (SELECT offering, COUNT(*) "
            f"AS n FROM ev WHERE stream = 1 GROUP BY offering) AS c ON sz.offering = c.offering"
            f" WHERE sz.students > 0 GROUP BY sz.{dim}")
        people = {row["v"]: int(row["people"]) for row in self._rows(
            f"SELECT off.{dim} AS v, COUNT(DISTINCT enr.person) AS people FROM enr JOIN off "
            f"ON enr.offering = off.offering JOIN cov ON off.term = cov.term "
            f"WHERE enr.stream = 1 GROUP BY off.{dim}")}
        counts = self.guard.noise(path, {row["v"]: float(row["n"]) for row in rows})
        total_n = sum(counts.values())
        total_days = sum(float(row["sdays"]) for row in rows)
        if not total_n or not total_days:
            return {}
        overall = total_n / total_days
        out, small = {}, []
        for row in sorted(rows, key=lambda r: -float(r["sdays"])):
            if row["v"] is None or not row["sdays"]:
                continue
            if people.get(row["v"], 0) < self.k:
                small.append(row["v"])
                continue
            out[str(row["v"])] = round(counts[row["v"]] / float(row["sdays"]) / overall, 4)
        if small:
            self.guard.record(path, "suppressed", f"{len(small)} value(s) with fewer than "
                              f"k={self.k} students (the generator uses 1.0)",
                              sum(people.get(v, 0) for v in small))
        return out

    def _diurnal(self) -> list[float] | None:
        hour = f"MOD(CAST(FLOOR(ts / 3600) AS {self._int}), 24)"
        rows = self._rows(f"SELECT {hour} AS h, COUNT(*) AS n, COUNT(DISTINCT person) AS people"
                          " FROM ev WHERE stream > 0 GROUP BY 1")
        counts = self.guard.noise("/events/diurnal", {int(r["h"]): float(r["n"]) for r in rows})
        people = {int(r["h"]): int(r["people"]) for r in rows}
        small = [h for h in range(24) if 0 < people.get(h, 0) < self.k]
        if small:
            self.guard.record("/events/diurnal", "suppressed", f"{len(small)} hour(s) with "
                              f"fewer than k={self.k} people (weight 0)",
                              sum(people[h] for h in small))
        values = [counts.get(h, 0.0) if people.get(h, 0) >= self.k else 0.0 for h in range(24)]
        total = sum(values)
        if total <= 0:
            return None
        return [round(24 * v / total, 4) for v in values]

    def per_enrollment(self, select: str) -> list[dict]:
        """Rows of `select` after a CTE `counts` (offering, person, x): the events of each
        student enrollment not withdrawn, zeros included, over the days the events cover."""
        status = ""
        if self.r.has("course_section_enrollment", "role_status"):
            rs = self.r.col("course_section_enrollment", "role_status", "text", "x")
            status = (f" AND NOT EXISTS (SELECT 1 FROM {self.r.rel('course_section_enrollment')}"
                      f" AS x JOIN {self.r.rel('course_section')} AS s ON x.course_section_id ="
                      f" s.course_section_id WHERE x.person_id = enr.person AND "
                      f"s.course_offering_id = enr.offering AND {rs} IN ('Withdrawn', "
                      "'Dropped'))")
        return self._rows(f"""
, counts AS (
  SELECT enr.offering, enr.person, COALESCE(c.n, 0) AS x FROM enr LEFT JOIN (
    SELECT offering, person, COUNT(*) AS n FROM ev WHERE stream = 1 GROUP BY offering, person
  ) AS c ON enr.offering = c.offering AND enr.person = c.person
  JOIN off ON enr.offering = off.offering JOIN cov ON off.term = cov.term
  WHERE enr.stream = 1{status}),
{select}""")

    def _sigma(self) -> float | None:
        """σ of the lognormal engagement from within-offering spread of per-enrollment student
        counts: Var = μ + μ²(e^σ² − 1) for a Poisson-lognormal with mean μ."""
        row = self.per_enrollment("""
per AS (
  SELECT offering, COUNT(*) AS n, AVG(x) AS m, VAR_SAMP(x) AS v FROM counts
  GROUP BY offering HAVING COUNT(*) >= 2)
SELECT SUM((n - 1) * (v - m)) AS excess, SUM((n - 1) * (m * m - v / n)) AS scale,
       SUM(n) AS people FROM per""")[0]
        if not row["people"] or row["people"] < 2 * self.k or not row["scale"]:
            self.p.notes.append("/events/engagement_sigma: kept the default (too few students)")
            return None
        ratio = max(float(row["excess"]) / float(row["scale"]), 0.0)
        return round(min(max(math.sqrt(math.log1p(ratio)), 0.0), 3.0), 4)


def _literal(value) -> str:
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _weekly(rate: dict[int, float]) -> list[float]:
    """Mean rate per day of the week (day index mod 7), past the first week when possible."""
    out = []
    for w in range(7):
        later = [v for d, v in rate.items() if d % 7 == w and d >= 7]
        some = later or [v for d, v in rate.items() if d % 7 == w] or list(rate.values())
        out.append(sum(some) / len(some))
    return out


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
        estimated = EventRates(p).estimate()
    except Missing as missing:
        p.notes.append(f"/events: kept the default ({missing})")
        return
    if estimated is not None:
        profile["events"] = estimated
