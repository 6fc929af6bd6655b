"""The generation order comes from the foreign-key graph; a cycle is a clear error."""

from __future__ import annotations

import pytest

from pipeline import REGISTRY, Column, ForeignKey, Layout, PlanError, Registry, Table


def _table(name: str, *parents: str) -> Table:
    columns = (Column(f"{name}_id", "int64", "pk"),
               *(Column(f"{p}_id", "int64", "parent") for p in parents))
    return Table(name, columns, (f"{name}_id",), Layout("fixed"),
                 tuple(ForeignKey(f"{p}_id", p) for p in parents))


def test_every_parent_is_generated_before_its_children():
    order = REGISTRY.order()
    position = {key: i for i, key in enumerate(order)}
    assert sorted(order) == sorted(t.key for t in REGISTRY)
    for table in REGISTRY:
        for parent in REGISTRY.dependencies(table):
            assert position[parent] < position[table.key], f"{parent} after {table.key}"


def test_results_come_before_the_grades_computed_from_them():
    order = REGISTRY.order()
    assert order.index("learner_activity_result") < order.index("course_grade")


def test_self_references_do_not_count_as_a_cycle():
    assert REGISTRY.order().index("academic_organization") >= 0


def test_a_cycle_is_an_error_naming_its_tables():
    registry = Registry((_table("term"), _table("course", "term", "section"),
                         _table("section", "course")))
    with pytest.raises(PlanError, match="cycle") as error:
        registry.order()
    message = str(error.value)
    assert "course" in message and "section" in message and "term" not in message


def test_a_foreign_key_to_an_undeclared_table_is_an_error():
    with pytest.raises(PlanError, match="undeclared tables: campus"):
        Registry((_table("course", "campus"),)).order()
