"""The SQL every event-rate estimate shares: the event table's columns, and the CTEs that
place each event in its term, course and stream (distributions/_event_rates.py explains the
model; distributions/_event_shapes.py and _event_rates.py query these CTEs).

Every query runs in the source engine (DuckDB or BigQuery); no event row comes back to Python.
"""

from __future__ import annotations

import re

from distributions._estimators import Reader, text_list

TABLE = "expanded"
QUALIFIED = "event_store.expanded"
DAY = 86400
# columns the estimates need: (top-level column, nested field or None)
NEEDED = (("type", None), ("action", None), ("event_time", None), ("object", "type"),
          ("person", "udp_id"), ("course_offering", "udp_id"))
# optional: without them the app's name comes from its id's host (without either, every
# event is one application's, LONE_APP: a converted VLE's click stream names none), the
# actor's role from the context store's enrollment of the person in the course
OPTIONAL = (("ed_app", "id"), ("ed_app", "name"), ("membership", "roles"))
LONE_APP = "lms"
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


def missing_needed(reader: Reader) -> list[str]:
    """The columns the estimates need that the event table lacks (`type`, `object.type`)."""
    columns = reader.tables[TABLE]
    return [column if nested is None or column not in columns else f"{column}.{nested}"
            for column, nested in NEEDED if column not in columns
            or (nested and not _has_field(columns[column], nested))]


def set_aside_incomplete(reader: Reader, notes: list[str]) -> None:
    """An event table lacking a column the estimates need is set aside with a note (a missing
    column is never a failure): the profile's events part is then the default's."""
    lacking = missing_needed(reader) if has_events(reader) else []
    if lacking:
        notes.append(f"table {QUALIFIED} lacks {', '.join(lacking)} (needed for the event-rate "
                     "model): the events part comes from the default profile")
        del reader.tables[TABLE]


def check_columns(reader: Reader) -> None:
    """One clear error if the event table's time is not a time (the estimates need it)."""
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


class EventQueries:
    """The event table as CTEs for one profiling run; `p` is the Profiler (reader, guard,
    notes, default)."""

    def __init__(self, p, engagement: dict | None = None):
        self.p, self.r, self.s, self.guard, self.k = p, p.reader, p.reader.sql, p.guard, \
            p.guard.k
        # when withdrawn students stop (their events end there, as the generator's do)
        self.engagement = engagement or {}
        self._lost: str | None = None  # a withdrawn enrollment's days without events, per term
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
        app_id = self._app_id()
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
        if "ed_app.id" in self._absent:
            return f"'{LONE_APP}'"
        app_id = self._app_id()
        if self.s.dialect == "bigquery":
            return f"NULLIF(REGEXP_EXTRACT({app_id}, r'^[A-Za-z]+://([^./:]+)'), '')"
        return f"NULLIF(regexp_extract({app_id}, '^[A-Za-z]+://([^./:]+)', 1), '')"

    def _app_id(self) -> str:
        """ed_app.id as text, or a text NULL where the table has none."""
        return self.s.text("NULL" if "ed_app.id" in self._absent
                           else self._field("ed_app", "id"))

    def _withdrawn(self) -> str:
        """1 for an enrollment whose status the generator withdraws (its events end at the
        withdrawal), else 0."""
        statuses = self.engagement.get("withdrawn_role_statuses") or []
        if not statuses or not self.r.has("course_section_enrollment", "role_status"):
            return "0"
        status = self.r.col("course_section_enrollment", "role_status", "text", "x")
        return f"CASE WHEN {status} IN ({text_list(statuses)}) THEN 1 ELSE 0 END"

    def _stream(self) -> str:
        if "membership.roles" in self._absent:
            # the actor's stream from their enrollment in the event's course (_enrolled)
            return "COALESCE(es.stream, 0)"
        roles = self.s.text(self._field("membership", "roles"))
        staff = " OR ".join(f"{roles} LIKE '%{w}%'" for w in STAFF_WORDS)
        return (f"CASE WHEN {roles} LIKE '%Learner%' THEN 1 WHEN {staff} THEN 2 "
                "ELSE 0 END")

    def _enrolled(self) -> str:
        """Without membership, the join that gives each event its actor's stream in the
        event's course: a hash join on (person, offering), where a subquery per event took
        7x the time and 2.6x the memory over 10.5 M events (the profile's slowest part)."""
        if "membership.roles" not in self._absent:
            return ""
        return ("LEFT JOIN (SELECT person, offering, MAX(stream) AS stream FROM enr "
                f"GROUP BY person, offering) AS es ON es.person = "
                f"{self._field('person', 'udp_id')} AND es.offering = "
                f"{self._field('course_offering', 'udp_id')} ")

    def _prefix(self) -> str:
        """CTEs: term (begin, days), off (term, family, level), ev (events with their day in
        term), cov (days each term's events cover), enr (students and staff per offering)."""
        r, s = self.r, self.s
        begin = self._epoch(r.col("academic_term", "term_begin_date", "time", "t"))
        end = self._epoch(r.col("academic_term", "term_end_date", "time", "t"))
        cip = r.col_or_null("course_offering", "cip_family", "text", "o")
        level = r.col_or_null("course_offering", "course_level", "text", "o")
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
              ELSE 0 END AS stream, {self._withdrawn()} AS withdrawn
  FROM {r.rel('course_section_enrollment')} AS x JOIN {r.rel('course_section')} AS s
    ON x.course_section_id = s.course_section_id),
raw AS (
  SELECT {self._tool_expr()} AS tool, {s.text('e.' + s.ident('type'))} AS type,
         {s.text('e.' + s.ident('action'))} AS action,
         {s.text(self._field('object', 'type'))} AS otype,
         {self._app_id()} AS app_id,
         {self._app_name()} AS app_name,
         {self._stream()} AS stream, {self._field('person', 'udp_id')} AS person,
         {self._field('course_offering', 'udp_id')} AS offering, {time} AS ts
  FROM {r.rel(TABLE)} AS e {self._enrolled()}WHERE NOT ({gradebook})),
placed AS (
  SELECT raw.*, off.term, off.family, off.level, term.term_days,
         CAST(FLOOR((raw.ts - term.b) / {DAY}) AS {self._int}) AS day
  FROM raw JOIN off ON raw.offering = off.offering JOIN term ON off.term = term.term),
ev AS (SELECT * FROM placed WHERE day >= 0 AND day < term_days AND tool IS NOT NULL),
cov AS ({self._cov or "SELECT term, LEAST(MAX(term_days), MAX(day) + 1) AS days FROM ev "
          "GROUP BY term"}),
lost AS ({self._lost or "SELECT term, 0 AS days FROM cov"}),
osize AS (
  SELECT off.offering, off.term, off.family, off.level, cov.days,
         SUM(CASE WHEN enr.stream = 1 THEN 1 ELSE 0 END) AS students,
         SUM(CASE WHEN enr.stream = 1 THEN enr.withdrawn ELSE 0 END) AS withdrawn,
         SUM(CASE WHEN enr.stream = 1 THEN cov.days - enr.withdrawn * lost.days ELSE 0 END)
           AS sdays,
         SUM(CASE WHEN enr.stream = 2 THEN 1 ELSE 0 END) AS staff
  FROM enr JOIN off ON enr.offering = off.offering JOIN cov ON off.term = cov.term
    JOIN lost ON off.term = lost.term
  GROUP BY off.offering, off.term, off.family, off.level, cov.days)
"""

    def _rows(self, select: str) -> list[dict]:
        return self.r.rows(self._prefix() + select)

