"""The institution's fixed structure: campuses, the organization and LMS account trees,
careers, programs and majors. These tables do not grow with FTE, so plain lists suffice."""

from __future__ import annotations

import numpy as np

from pipeline.generate import _catalog as cat
from pipeline.generate._column_values import Labels
from pipeline.generate._engine import Engine, rule
from pipeline.generate._plan import Flat, count_rule
from pipeline.udp._schema import Table

INSTITUTION = ("Campus Synth University", "CSU")
_COLLEGE_CODES = tuple(f"C{i + 1:02d}" for i in range(len(cat.COLLEGES)))


def organization_rows() -> list[dict]:
    """Institution, then colleges, then departments; parents point at earlier rows."""
    rows = [{"name": INSTITUTION[0], "code": INSTITUTION[1], "type": "Institution",
             "parent": -1, "grandparent": -1, "cip": None}]
    for college, code in zip(cat.COLLEGES, _COLLEGE_CODES, strict=True):
        rows.append({"name": college, "code": code, "type": "College", "parent": 0,
                     "grandparent": -1, "cip": None})
    for dept in cat.DEPARTMENTS:
        rows.append({"name": f"Department of {dept.name}", "code": dept.subject,
                     "type": "Department", "parent": 1 + cat.COLLEGES.index(dept.college),
                     "grandparent": 0, "cip": dept.cip_family})
    return rows


ORGANIZATIONS = organization_rows()
FIRST_DEPARTMENT_ROW = 1 + len(cat.COLLEGES)


def _pick(rows: np.ndarray, field: str) -> Labels:
    values = tuple(dict.fromkeys(o[field] for o in ORGANIZATIONS))
    codes = np.array([values.index(o[field]) for o in ORGANIZATIONS], dtype=np.int32)
    return Labels(codes[rows], values)


@count_rule("organizations")
def plan_organizations(engine: Engine, table: Table) -> Flat:
    """Rows of the organization and LMS account trees."""
    return Flat(len(ORGANIZATIONS))


@rule("catalog")
def catalog_column(engine: Engine, table: Table, column: str, rows: np.ndarray):
    """Columns of the institution's fixed structure, from the built-in catalog."""
    handler = _HANDLERS[table.name]
    return handler(engine, column, rows)


def _organization(engine: Engine, column: str, rows: np.ndarray):
    if column == "parent_academic_organization_id":
        return np.array([o["parent"] for o in ORGANIZATIONS])[rows]
    if column == "campus_id":
        return np.zeros(len(rows), dtype=np.int64)
    field = {"organization_type": "type", "cip_family": "cip"}.get(column, column)
    return _pick(rows, field)


def _leo(engine: Engine, column: str, rows: np.ndarray):
    if column.startswith("parent_"):
        return np.array([o["parent"] for o in ORGANIZATIONS])[rows]
    if column.startswith("grandparent_"):
        return np.array([o["grandparent"] for o in ORGANIZATIONS])[rows]
    return _pick(rows, "name")


def _campus(engine: Engine, column: str, rows: np.ndarray):
    names = cat.CAMPUS_NAMES
    if column == "name":
        return Labels((rows % len(names)).astype(np.int32), names)
    codes = tuple("".join(w[0] for w in n.split()) + f"{i}" for i, n in enumerate(names))
    return Labels((rows % len(names)).astype(np.int32), codes)


def _career(engine: Engine, column: str, rows: np.ndarray):
    codes = engine.column("academic_career", "code", rows).decode()
    descriptions = tuple(cat.CAREER_DESCRIPTIONS.values())
    keys = tuple(cat.CAREER_DESCRIPTIONS)
    index = np.array([keys.index(c) if c in keys else 0 for c in codes], dtype=np.int32)
    return Labels(index, descriptions)


def _program(engine: Engine, column: str, rows: np.ndarray):
    careers = engine.given("academic_program", "academic_career_id.code", rows).decode()
    ordinal = engine.ordinal("academic_program", rows)
    names = [cat.PROGRAM_NAMES.get(c, cat.PROGRAM_NAMES["UGRD"]) for c in careers]
    return np.array([n[o % len(n)] for n, o in zip(names, ordinal, strict=True)], dtype=object)


def major_departments(engine: Engine, rows: np.ndarray) -> np.ndarray:
    """Index into DEPARTMENTS of each major row."""
    return (engine.uniform("academic_major", "department", rows) * len(cat.DEPARTMENTS)).astype(int)


def _major(engine: Engine, column: str, rows: np.ndarray):
    depts = [cat.DEPARTMENTS[i] for i in major_departments(engine, rows)]
    if column == "description":
        return np.array([d.name for d in depts], dtype=object)
    if column == "code":
        codes = [f"{d.subject}-{r + 1:03d}" for d, r in zip(depts, rows, strict=True)]
        return np.array(codes, dtype=object)
    index = major_departments(engine, rows)
    cips = [f"{d.cip_family}.{i % 90 + 1:02d}01" for d, i in zip(depts, index, strict=True)]
    return np.array(cips, dtype=object)


_HANDLERS = {
    "academic_organization": _organization,
    "learning_environment_organization": _leo,
    "campus": _campus,
    "academic_career": _career,
    "academic_program": _program,
    "academic_major": _major,
}
