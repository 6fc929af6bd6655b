"""The UDP context store as campus-synth generates it (names from shared/reference/udp.md).

Every table lists its columns with their types and how each is generated, its primary key, its
foreign keys and its row layout. The generation order is not kept here: the plan derives it
from the foreign keys.
"""

from __future__ import annotations

from pipeline.udp._schema import ORDINAL, PARENT, PK, Column, ForeignKey, Layout, Table

C = Column


def _pk(table: str) -> Column:
    return C(f"{table}_id", "int64", PK, description=f"UDP surrogate key of {table}",
             sensitive="identifier")


def _fk(column: str, gen: str = PARENT, nullable: bool = False) -> Column:
    return C(column, "int64", gen, nullable, f"foreign key ({column})", "identifier")


def _fks(*pairs: tuple[str, str]) -> tuple[ForeignKey, ...]:
    return tuple(ForeignKey(column, parent) for column, parent in pairs)


CALENDAR_COLUMNS = ("term_begin_date", "term_end_date", "instr_begin_date", "instr_end_date")

ENTITIES: tuple[Table, ...] = (
    Table("academic_term", (
        _pk("academic_term"),
        C("name", "string", "calendar", description="e.g. 'Fall 2025'"),
        C("term_type", "string", "calendar", description="ref_term_type: Fall, Spring, ..."),
        C("session_type", "string", "calendar"),
        C("session_name", "string", "calendar"),
        C("term_year", "int64", "calendar", description="calendar year the term starts in"),
        *(C(name, "timestamp", "calendar") for name in CALENDAR_COLUMNS),
        C("le_term_begin_date", "date", "calendar"),
        C("le_term_end_date", "date", "calendar"),
    ), ("academic_term_id",), Layout("rule", count_rule="terms"), system="both",
        description="Academic terms: the Fall and Spring terms of consecutive academic years."),
    Table("academic_session", (
        _pk("academic_session"), _fk("academic_term_id"),
        C("name", "string", "calendar"),
        C("session_type", "string", "calendar"),
        C("begin_date", "timestamp", "calendar"), C("end_date", "timestamp", "calendar"),
        C("instr_begin_date", "timestamp", "calendar"),
        C("instr_end_date", "timestamp", "calendar"),
    ), ("academic_session_id",), Layout("children", "academic_term", count_rule="sessions"),
        _fks(("academic_term_id", "academic_term")),
        description="Sessions inside a term (full term and its halves)."),
    Table("campus", (
        _pk("campus"),
        C("name", "string", "catalog", learnable=True),
        C("code", "string", "catalog", learnable=True),
    ), ("campus_id",), Layout("fixed"), description="Campuses of the institution."),
    Table("academic_organization", (
        _pk("academic_organization"),
        _fk("parent_academic_organization_id", "catalog", nullable=True),
        _fk("campus_id", "catalog"),
        C("name", "string", "catalog"), C("code", "string", "catalog"),
        C("organization_type", "string", "catalog", description="Institution, College, Department"),
        C("cip_family", "string", "catalog", True, "2-digit CIP family of a department"),
    ), ("academic_organization_id",), Layout("rule", count_rule="organizations"),
        _fks(("parent_academic_organization_id", "academic_organization"), ("campus_id", "campus")),
        self_references=("parent_academic_organization_id",),
        description="Institution → colleges → departments."),
    Table("academic_career", (
        _pk("academic_career"),
        C("code", "string", description="UGRD, GRAD, PROF"),
        C("description", "string", "catalog"),
    ), ("academic_career_id",), Layout("enumerate", column="code"),
        description="Academic careers."),
    Table("academic_program", (
        _pk("academic_program"), _fk("academic_career_id"),
        C("description", "string", "catalog"),
        C("educational_level", "string", description="ref_education_level"),
    ), ("academic_program_id",), Layout("children", "academic_career"),
        _fks(("academic_career_id", "academic_career")), description="Degree programs."),
    Table("academic_major", (
        _pk("academic_major"), _fk("academic_program_id"),
        C("code", "string", "catalog"), C("description", "string", "catalog"),
        C("cip_code2k", "string", "catalog", description="CIP code of the major"),
    ), ("academic_major_id",), Layout("children", "academic_program"),
        _fks(("academic_program_id", "academic_program")), description="Majors within programs."),
    Table("learning_environment_organization", (
        _pk("learning_environment_organization"),
        C("name", "string", "catalog"),
        C("status", "string"),
        _fk("parent_learning_environment_organization_id", "catalog", nullable=True),
        _fk("grandparent_learning_environment_organization_id", "catalog", nullable=True),
    ), ("learning_environment_organization_id",), Layout("rule", count_rule="organizations"),
        _fks(("parent_learning_environment_organization_id", "learning_environment_organization"),
             ("grandparent_learning_environment_organization_id",
              "learning_environment_organization")),
        system="lms", description="The LMS account tree (root, college and department accounts).",
        self_references=("parent_learning_environment_organization_id",
                         "grandparent_learning_environment_organization_id")),
    Table("person", (
        _pk("person"),
        C("name", "string", "person_name", sensitive="name"),
        C("first_name", "string", "person_name", sensitive="name"),
        C("last_name", "string", "person_name", sensitive="name"),
        C("sex", "string"),
    ), ("person_id",), Layout("rule", count_rule="people"), system="both",
        description="People: students first, then instructors; they persist across terms."),
    Table("person_email", (
        _fk("person_id"),
        C("email_address", "string", "email", sensitive="email"),
    ), ("person_id", "email_address"), Layout("children", "person"),
        _fks(("person_id", "person")), keymap=False, description="Email addresses of people."),
    Table("person__academic_term", (
        _fk("person_id", "cross"), _fk("academic_term_id", "cross"),
        C("cen_academic_level", "string", keyed_by="person_id"),
        C("eot_academic_load", "string", keyed_by="person_id"),
        C("gpa_credits_units_hours", "float64"),
        C("athletic_participant_sport", "string", nullable=True, keyed_by="person_id"),
    ), ("person_id", "academic_term_id"),
        Layout("cross", "person", "academic_term", population="students"),
        _fks(("person_id", "person"), ("academic_term_id", "academic_term")), keymap=False,
        description="A student in a term: level, load and credits."),
    Table("person__academic_major__academic_term", (
        _fk("person_id", "from_parent"), _fk("academic_term_id", "from_parent"),
        _fk("academic_major_id", "declared_major"),
    ), ("person_id", "academic_term_id", "academic_major_id"),
        Layout("children", "person__academic_term", count_keyed_by="person_id"),
        _fks(("person_id", "person"), ("academic_term_id", "academic_term"),
             ("academic_major_id", "academic_major")), keymap=False,
        description="Declared majors of a student in a term (none while undeclared)."),
    Table("course_offering", (
        _pk("course_offering"), _fk("academic_term_id"),
        C("cip_family", "string", description="2-digit CIP family of the course",
          keyed_by=ORDINAL),
        _fk("academic_organization_id", "department"),
        C("subject", "string", "course_catalog", learnable=True, keyed_by=ORDINAL),
        C("course_level", "string", description="100, 200, 300, 400, 500 (graduate)",
          keyed_by=ORDINAL),
        C("number", "string", "course_catalog", learnable=True, keyed_by=ORDINAL),
        C("le_code", "string", "course_catalog", keyed_by=ORDINAL),
        C("title", "string", "course_catalog", learnable=True, keyed_by=ORDINAL),
        C("available_credits", "int64", keyed_by=ORDINAL),
        C("le_status", "string"),
        C("le_start_date", "date", "term_dates"), C("le_end_date", "date", "term_dates"),
        _fk("learning_environment_organization_id", "department"),
    ), ("course_offering_id",), Layout("children", "academic_term", count_rule="offerings"),
        _fks(("academic_term_id", "academic_term"),
             ("academic_organization_id", "academic_organization"),
             ("learning_environment_organization_id", "learning_environment_organization")),
        system="both", description="A course in a term."),
    Table("course_section", (
        _pk("course_section"), _fk("course_offering_id"),
        _fk("le_current_course_offering_id", "same_offering"),
        _fk("le_original_course_offering_id", "same_offering"),
        C("section_number", "string", "section_name", learnable=True),
        C("le_name", "string", "section_name"),
        C("status", "string"),
        C("delivery_mode", "string", description="ref_course_section_delivery_mode"),
        C("max_enrollment", "int64"),
        C("academic_session_id", "int64", "session_of_term", sensitive="identifier",
          description="foreign key (academic_session_id)", profiled=True),
        C("campus_id", "int64", "campus_of_section", description="foreign key (campus_id)",
          sensitive="identifier", profiled=True),
    ), ("course_section_id",), Layout("children", "course_offering"),
        _fks(("course_offering_id", "course_offering"),
             ("le_current_course_offering_id", "course_offering"),
             ("le_original_course_offering_id", "course_offering"),
             ("academic_session_id", "academic_session"), ("campus_id", "campus")),
        system="both", description="A section of a course offering."),
    Table("course_section_enrollment", (
        _fk("course_section_id", "enrollment"), _fk("person_id", "enrollment"),
        C("role", "string", "enrollment", profiled=True),
        C("role_status", "string", "role_status", profiled=True),  # gradebook.py: copula
        C("enrollment_status", "string"),
    ), ("course_section_id", "person_id", "role"), Layout("rule", count_rule="enrollments"),
        _fks(("course_section_id", "course_section"), ("person_id", "person")), keymap=False,
        description="A person's role in a section: students, then instructors and staff."),
    Table("learner_activity_group", (
        _pk("learner_activity_group"), _fk("course_offering_id"),
        C("name", "string", "activity_names", learnable=True),
        C("group_weight", "float64", "group_weight", description="percent of the course grade",
          profiled=True),
        C("status", "string"),
        C("drop_lowest_amount", "int64"), C("drop_highest_amount", "int64"),
    ), ("learner_activity_group_id",), Layout("children", "course_offering"),
        _fks(("course_offering_id", "course_offering")), system="lms",
        description="A Canvas assignment group with its weight."),
    Table("learner_activity", (
        _pk("learner_activity"), _fk("course_offering_id", "offering_of"),
        _fk("learner_activity_group_id"),
        C("title", "string", "activity_names", learnable=True),
        C("due_date", "timestamp", "due_date", nullable=True, profiled=True),
        C("points_possible", "float64"),
        C("status", "string"), C("visibility", "string"),
        C("updated_date", "timestamp", "due_date"),
    ), ("learner_activity_id",), Layout("children", "learner_activity_group"),
        _fks(("course_offering_id", "course_offering"),
             ("learner_activity_group_id", "learner_activity_group")), system="lms",
        description="A Canvas assignment."),
    Table("learner_activity_result", (
        _pk("learner_activity_result"),
        _fk("learner_activity_id", "result"), _fk("person_id", "result"),
        C("response_date", "timestamp", "result", nullable=True, profiled=True),
        C("grading_status", "string", "result", profiled=True),
        C("published_score", "float64", "result", nullable=True, profiled=True),
        C("published_grade", "string", "result", nullable=True),
        C("gradebook_status", "string"),
        C("graded_date", "timestamp", "result", nullable=True, profiled=True),
        C("posted_at", "timestamp", "result", nullable=True),
    ), ("learner_activity_result_id",),
        Layout("children", "course_section_enrollment", count_rule="activities_of_enrollment"),
        _fks(("learner_activity_id", "learner_activity"), ("person_id", "person")), system="lms",
        description="A student's submission for an assignment (unsubmitted ones included)."),
    Table("course_grade", (
        _fk("course_section_id", "grade"), _fk("person_id", "grade"),
        C("le_current_score", "float64", "grade", nullable=True),
        C("le_final_score", "float64", "grade", nullable=True),
        C("final_grade", "string", "grade", nullable=True, description="letter grade"),
        C("gpa_cumulative_excluding_course_grade", "float64", "grade", profiled=True),
    ), ("course_section_id", "person_id"),
        Layout("children", "course_section_enrollment", count_rule="one_per_student"),
        _fks(("course_section_id", "course_section"), ("person_id", "person")), keymap=False,
        computed_from=("learner_activity_result", "learner_activity_group"),
        generated_with="learner_activity_result",
        description="A student's course grade, computed from results and group weights."),
)

CONTENT: tuple[Table, ...] = (
    Table("wiki", (_pk("wiki"), _fk("course_offering_id")), ("wiki_id",),
          Layout("children", "course_offering", count_rule="one_per_parent"),
          _fks(("course_offering_id", "course_offering")), system="lms",
          description="A course's wiki (one per course), holding its pages."),
    Table("wiki_page", (
        _pk("wiki_page"), _fk("wiki_id"),
        C("title", "string", "numbered"),
        C("status", "string"),
        C("updated_date", "timestamp", "in_term"),
    ), ("wiki_page_id",), Layout("children", "wiki"), _fks(("wiki_id", "wiki")), system="lms",
        description="A page of a course wiki."),
    Table("discussion", (
        _pk("discussion"), _fk("course_offering_id"),
        C("title", "string", "numbered"),
        C("status", "string"),
        C("updated_date", "timestamp", "in_term"),
    ), ("discussion_id",), Layout("children", "course_offering"),
        _fks(("course_offering_id", "course_offering")), system="lms",
        description="A discussion topic of a course."),
    Table("discussion_entry", (
        _pk("discussion_entry"), _fk("discussion_id"),
        _fk("person_id", "enrolled_author", nullable=True),
        C("status", "string"),
        C("created_date", "timestamp", "in_term"),
    ), ("discussion_entry_id",), Layout("children", "discussion"),
        _fks(("discussion_id", "discussion"), ("person_id", "person")), system="lms",
        description="A post in a discussion, by a student enrolled in the course."),
    Table("module", (
        _pk("module"), _fk("course_offering_id"),
        C("name", "string", "numbered"),
        C("position", "int64", "numbered"),
        C("status", "string"),
        C("updated_date", "timestamp", "in_term"),
    ), ("module_id",), Layout("children", "course_offering"),
        _fks(("course_offering_id", "course_offering")), system="lms",
        description="A module (unit of a course's content)."),
    Table("module_item", (
        _pk("module_item"), _fk("module_id"),
        _fk("course_offering_id", "offering_of"),
        C("title", "string", "numbered"),
        C("content_type", "string", description="what the item links to"),
        C("status", "string"),
        C("updated_date", "timestamp", "in_term"),
    ), ("module_item_id",), Layout("children", "module"),
        _fks(("module_id", "module"), ("course_offering_id", "course_offering")), system="lms",
        description="An item of a module: an assignment, page, file, quiz, discussion or link."),
    Table("file", (
        _pk("file"), _fk("course_offering_id"),
        C("display_name", "string", "file_name"),
        C("content_type", "string"),
        C("size", "int64", description="bytes"),
        C("status", "string"),
        C("updated_date", "timestamp", "in_term"),
    ), ("file_id",), Layout("children", "course_offering"),
        _fks(("course_offering_id", "course_offering")), system="lms",
        description="A file uploaded to a course."),
    Table("quiz", (
        _pk("quiz"), _fk("course_offering_id"),
        C("title", "string", "numbered"),
        C("quiz_type", "string"),
        C("points_possible", "float64"),
        C("status", "string"),
        C("updated_date", "timestamp", "in_term"),
    ), ("quiz_id",), Layout("children", "course_offering"),
        _fks(("course_offering_id", "course_offering")), system="lms",
        description="A quiz of a course."),
)
