"""Built-in, fully invented reference data for the synthetic university.

Why this module exists: the generator needs believable-looking
departments, course titles, programs and so on to make a fake university
look plausible, without reading any outside data at run time.

Everything here is invented or generic. Department, campus and program
names are generic; CIP family codes and titles follow the public NCES CIP
2020 taxonomy. People's given names and surnames live in `_names.py`.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "Department",
    "COLLEGES",
    "DEPARTMENTS",
    "CIP_FAMILY_NAMES",
    "COURSE_TOPICS",
    "PROGRAM_NAMES",
    "CAREER_DESCRIPTIONS",
    "ACTIVITY_GROUP_NAMES",
    "ACTIVITY_TITLE_STEMS",
    "CAMPUS_NAMES",
    "SPORTS",
]

# --------------------------------------------------------------------------
# Colleges and departments
# --------------------------------------------------------------------------


class Department(NamedTuple):
    college: str
    subject: str  # course subject code, 2-5 upper-case letters
    name: str
    cip_family: str  # 2-digit NCES CIP 2020 family code


COLLEGES: tuple[str, ...] = (
    "College of Arts and Sciences",
    "College of Engineering",
    "School of Business",
    "College of Health Sciences",
    "College of Education",
    "College of Fine Arts",
    "School of Computing",
)

_AS, _ENG, _BUS, _HLT, _EDU, _FA, _CMP = COLLEGES

DEPARTMENTS: tuple[Department, ...] = tuple(
    Department(college, subject, name, cip)
    for college, subject, name, cip in (
        (_AS, "ENGL", "English", "23"),
        (_AS, "COMM", "Communication Studies", "09"),
        (_AS, "JOUR", "Journalism", "09"),
        (_AS, "SPAN", "Spanish", "16"),
        (_AS, "FREN", "French", "16"),
        (_AS, "GERM", "German", "16"),
        (_AS, "LIBS", "Liberal Studies", "24"),
        (_AS, "BIOL", "Biology", "26"),
        (_AS, "MATH", "Mathematics", "27"),
        (_AS, "STAT", "Statistics", "27"),
        (_AS, "PHIL", "Philosophy", "38"),
        (_AS, "RELS", "Religious Studies", "38"),
        (_AS, "CHEM", "Chemistry", "40"),
        (_AS, "PHYS", "Physics", "40"),
        (_AS, "ASTR", "Astronomy", "40"),
        (_AS, "GEOL", "Geology", "40"),
        (_AS, "PSYC", "Psychology", "42"),
        (_AS, "PADM", "Public Administration", "44"),
        (_AS, "ECON", "Economics", "45"),
        (_AS, "POLS", "Political Science", "45"),
        (_AS, "SOC", "Sociology", "45"),
        (_AS, "ANTH", "Anthropology", "45"),
        (_AS, "GEOG", "Geography", "45"),
        (_AS, "HIST", "History", "54"),
        (_ENG, "ME", "Mechanical Engineering", "14"),
        (_ENG, "EE", "Electrical Engineering", "14"),
        (_ENG, "CE", "Civil Engineering", "14"),
        (_ENG, "CHE", "Chemical Engineering", "14"),
        (_ENG, "BME", "Biomedical Engineering", "14"),
        (_BUS, "ACCT", "Accounting", "52"),
        (_BUS, "FIN", "Finance", "52"),
        (_BUS, "MGMT", "Management", "52"),
        (_BUS, "MKTG", "Marketing", "52"),
        (_HLT, "NURS", "Nursing", "51"),
        (_HLT, "PH", "Public Health", "51"),
        (_HLT, "CSD", "Communication Sciences and Disorders", "51"),
        (_HLT, "KIN", "Kinesiology", "31"),  # CIP 31.0505 Exercise Science and Kinesiology
        (_HLT, "SOCW", "Social Work", "44"),
        (_EDU, "EDUC", "Teacher Education", "13"),
        (_EDU, "SPED", "Special Education", "13"),
        (_FA, "ART", "Art and Art History", "50"),
        (_FA, "MUS", "Music", "50"),
        (_FA, "THEA", "Theatre", "50"),
        (_FA, "DANC", "Dance", "50"),
        (_FA, "FILM", "Film and Media Arts", "50"),
        (_CMP, "CS", "Computer Science", "11"),
        (_CMP, "IT", "Information Technology", "11"),
        (_CMP, "CYBR", "Cybersecurity", "11"),
    )
)

CIP_FAMILY_NAMES: dict[str, str] = {
    "09": "Communication, Journalism, and Related Programs",
    "11": "Computer and Information Sciences and Support Services",
    "13": "Education",
    "14": "Engineering",
    "16": "Foreign Languages, Literatures, and Linguistics",
    "23": "English Language and Literature/Letters",
    "24": "Liberal Arts and Sciences, General Studies and Humanities",
    "26": "Biological and Biomedical Sciences",
    "27": "Mathematics and Statistics",
    "31": "Parks, Recreation, Leisure, Fitness, and Kinesiology",
    "38": "Philosophy and Religious Studies",
    "40": "Physical Sciences",
    "42": "Psychology",
    "44": "Public Administration and Social Service Professions",
    "45": "Social Sciences",
    "50": "Visual and Performing Arts",
    "51": "Health Professions and Related Programs",
    "52": "Business, Management, Marketing, and Related Support Services",
    "54": "History",
}

# --------------------------------------------------------------------------
# Course topics: 8 per subject, separated by "|"
# --------------------------------------------------------------------------

_TOPICS_RAW = """
ENGL: Composition | American Literature | British Literature | Shakespeare | Creative Writing | Literary Theory | The Novel | Poetry
COMM: Public Speaking | Interpersonal Communication | Mass Media and Society | Rhetorical Criticism | Organizational Communication | Intercultural Communication | Persuasion | Communication Research Methods
JOUR: News Writing | Reporting | Media Ethics | Editing | Broadcast Journalism | Digital Journalism | Feature Writing | Media Law
SPAN: Elementary Spanish | Intermediate Spanish | Spanish Conversation | Spanish Composition | Hispanic Cultures | Latin American Literature | Spanish Phonetics | Literature of Spain
FREN: Elementary French | Intermediate French | French Conversation | French Composition | Francophone Cultures | French Literature | French Phonetics | French Cinema
GERM: Elementary German | Intermediate German | German Conversation | German Composition | German Culture | German Literature | German Cinema | Business German
LIBS: First-Year Seminar | Great Books | Critical Thinking | Interdisciplinary Inquiry | Ideas in Context | Humanities and the Arts | Science and Society | Senior Capstone
BIOL: General Biology | Cell Biology | Genetics | Ecology | Evolution | Microbiology | Human Anatomy | Physiology
MATH: Calculus | Linear Algebra | Differential Equations | Discrete Mathematics | Real Analysis | Abstract Algebra | Probability | Number Theory
STAT: Elementary Statistics | Statistical Methods | Regression Analysis | Design of Experiments | Mathematical Statistics | Bayesian Statistics | Time Series Analysis | Statistical Computing
PHIL: Introduction to Philosophy | Logic | Ethics | Philosophy of Mind | Epistemology | Metaphysics | Ancient Philosophy | Political Philosophy
RELS: World Religions | Religion in America | Hebrew Bible | New Testament | Islam | Buddhism | Religion and Ethics | Sacred Texts
CHEM: General Chemistry | Organic Chemistry | Analytical Chemistry | Physical Chemistry | Biochemistry | Inorganic Chemistry | Instrumental Analysis | Environmental Chemistry
PHYS: General Physics | Mechanics | Electricity and Magnetism | Thermodynamics | Optics | Quantum Mechanics | Modern Physics | Statistical Mechanics
ASTR: Introductory Astronomy | The Solar System | Stars and Galaxies | Cosmology | Astrophysics | Observational Astronomy | Planetary Science | Life in the Universe
GEOL: Physical Geology | Historical Geology | Mineralogy | Petrology | Structural Geology | Sedimentology | Hydrogeology | Geochemistry
PSYC: General Psychology | Developmental Psychology | Abnormal Psychology | Social Psychology | Cognitive Psychology | Research Methods | Biological Psychology | Personality
PADM: Introduction to Public Administration | Public Policy Analysis | Public Budgeting | Nonprofit Management | Public Personnel Administration | Administrative Law | Urban Governance | Program Evaluation
ECON: Principles of Microeconomics | Principles of Macroeconomics | Intermediate Microeconomics | Econometrics | Labor Economics | International Economics | Public Finance | Money and Banking
POLS: American Government | Comparative Politics | International Relations | Political Theory | Constitutional Law | Public Opinion | State and Local Government | Foreign Policy
SOC: Introduction to Sociology | Social Problems | Race and Ethnicity | Sociology of Gender | Social Theory | Deviance | Urban Sociology | Sociology of Family
ANTH: Cultural Anthropology | Biological Anthropology | Archaeology | Linguistic Anthropology | Ethnographic Methods | Medical Anthropology | Human Evolution | Peoples of the World
GEOG: World Regional Geography | Physical Geography | Human Geography | Cartography | Geographic Information Systems | Remote Sensing | Urban Geography | Climatology
HIST: World History | United States History | European History | Latin American History | History of Science | Modern East Asia | The Ancient World | Historical Methods
ME: Statics | Dynamics | Thermodynamics | Fluid Mechanics | Heat Transfer | Machine Design | Mechanics of Materials | Manufacturing Processes
EE: Circuit Analysis | Digital Logic | Signals and Systems | Electronics | Electromagnetics | Control Systems | Power Systems | Communication Systems
CE: Surveying | Structural Analysis | Geotechnical Engineering | Transportation Engineering | Hydraulics | Environmental Engineering | Construction Management | Reinforced Concrete Design
CHE: Material and Energy Balances | Chemical Thermodynamics | Transport Phenomena | Reaction Engineering | Separation Processes | Process Control | Process Design | Unit Operations Laboratory
BME: Biomechanics | Biomaterials | Bioinstrumentation | Biomedical Imaging | Physiological Systems | Tissue Engineering | Medical Device Design | Biotransport
ACCT: Financial Accounting | Managerial Accounting | Intermediate Accounting | Cost Accounting | Auditing | Federal Taxation | Accounting Information Systems | Governmental Accounting
FIN: Corporate Finance | Investments | Financial Markets | Personal Finance | International Finance | Portfolio Management | Derivatives | Financial Modeling
MGMT: Principles of Management | Organizational Behavior | Human Resource Management | Operations Management | Business Ethics | Entrepreneurship | Leadership | Strategic Management
MKTG: Principles of Marketing | Consumer Behavior | Marketing Research | Digital Marketing | Advertising | Sales Management | Brand Management | Marketing Strategy
NURS: Fundamentals of Nursing | Health Assessment | Pharmacology | Medical-Surgical Nursing | Maternal and Child Nursing | Mental Health Nursing | Community Health Nursing | Nursing Leadership
PH: Introduction to Public Health | Epidemiology | Biostatistics | Environmental Health | Global Health | Health Policy | Health Behavior | Community Health
CSD: Speech and Hearing Science | Phonetics | Language Development | Audiology | Speech Anatomy | Aural Rehabilitation | Fluency Disorders | Clinical Methods
KIN: Foundations of Kinesiology | Exercise Physiology | Motor Learning | Biomechanics of Movement | Sport Psychology | Fitness Assessment | Strength and Conditioning | Nutrition for Performance
SOCW: Introduction to Social Work | Social Welfare Policy | Human Behavior in the Social Environment | Social Work Practice | Child Welfare | Case Management | Social Work Research | Field Practicum
EDUC: Foundations of Education | Educational Psychology | Classroom Management | Curriculum Design | Literacy Instruction | Assessment and Evaluation | Educational Technology | Student Teaching
SPED: Introduction to Special Education | Learning Disabilities | Inclusive Classrooms | Behavior Support | Autism Spectrum Disorders | Assistive Technology | Transition Planning | Individualized Education Programs
ART: Drawing | Painting | Sculpture | Ceramics | Printmaking | Photography | Art History Survey | Contemporary Art
MUS: Music Theory | Aural Skills | Music History | Music Appreciation | Conducting | Orchestration | World Music | Applied Lessons
THEA: Introduction to Theatre | Acting | Directing | Stagecraft | Lighting Design | Costume Design | Theatre History | Playwriting
DANC: Ballet Technique | Modern Dance | Jazz Dance | Choreography | Dance History | Tap Dance | Dance Composition | Dance Pedagogy
FILM: Film History | Film Analysis | Screenwriting | Cinematography | Film Editing | Documentary Production | Sound Design | Animation
CS: Introduction to Programming | Data Structures | Algorithms | Computer Organization | Operating Systems | Database Systems | Software Engineering | Artificial Intelligence
IT: Computer Networking | Systems Administration | Web Development | IT Project Management | Cloud Computing | Database Administration | Scripting | Human-Computer Interaction
CYBR: Foundations of Cybersecurity | Network Security | Cryptography | Digital Forensics | Ethical Hacking | Security Policy | Secure Software Development | Incident Response
"""

COURSE_TOPICS: dict[str, tuple[str, ...]] = {
    subject.strip(): tuple(t.strip() for t in topics.split("|"))
    for subject, topics in (
        line.split(":", 1) for line in _TOPICS_RAW.strip().splitlines()
    )
}

# --------------------------------------------------------------------------
# Programs and careers
# --------------------------------------------------------------------------

PROGRAM_NAMES: dict[str, tuple[str, ...]] = {
    "UGRD": (
        "Bachelor of Science",
        "Bachelor of Arts",
        "Bachelor of Fine Arts",
        "Bachelor of Business Administration",
        "Bachelor of Music",
        "Bachelor of Science in Nursing",
        "Bachelor of Science in Engineering",
        "Bachelor of Social Work",
        "Bachelor of Applied Science",
        "Associate of Arts",
    ),
    "GRAD": (
        "Master of Science",
        "Master of Arts",
        "Doctor of Philosophy",
        "Master of Business Administration",
        "Master of Education",
        "Master of Fine Arts",
        "Master of Public Health",
        "Master of Public Administration",
        "Master of Social Work",
        "Doctor of Education",
    ),
    "PROF": (
        "Doctor of Medicine",
        "Juris Doctor",
        "Doctor of Pharmacy",
        "Doctor of Physical Therapy",
        "Doctor of Dental Surgery",
        "Doctor of Veterinary Medicine",
        "Doctor of Osteopathic Medicine",
        "Doctor of Optometry",
        "Doctor of Nursing Practice",
        "Doctor of Occupational Therapy",
    ),
}

CAREER_DESCRIPTIONS: dict[str, str] = {
    "UGRD": "Undergraduate",
    "GRAD": "Graduate",
    "PROF": "Professional",
}

# --------------------------------------------------------------------------
# Canvas-style assignment groups (in the order a course creates them)
# --------------------------------------------------------------------------

ACTIVITY_GROUP_NAMES: tuple[str, ...] = (
    "Assignments",
    "Quizzes",
    "Exams",
    "Discussions",
    "Homework",
    "Labs",
    "Projects",
    "Participation",
    "Papers",
    "Presentations",
    "Readings",
    "Extra Credit",
)

ACTIVITY_TITLE_STEMS: dict[str, str] = {
    "Assignments": "Assignment",
    "Quizzes": "Quiz",
    "Exams": "Exam",
    "Discussions": "Discussion",
    "Homework": "Homework",
    "Labs": "Lab",
    "Projects": "Project",
    "Participation": "Participation",
    "Papers": "Paper",
    "Presentations": "Presentation",
    "Readings": "Reading Response",
    "Extra Credit": "Extra Credit",
}

# --------------------------------------------------------------------------
# Campuses and athletics
# --------------------------------------------------------------------------

CAMPUS_NAMES: tuple[str, ...] = (
    "Main Campus",
    "North Campus",
    "Downtown Campus",
    "Online Campus",
    "Medical Campus",
    "Lakeside Campus",
)

SPORTS: tuple[str, ...] = (
    "Football",
    "Men's Basketball",
    "Women's Basketball",
    "Baseball",
    "Softball",
    "Women's Soccer",
    "Men's Soccer",
    "Volleyball",
    "Swimming and Diving",
    "Track and Field",
    "Cross Country",
    "Tennis",
    "Golf",
    "Wrestling",
)


# --------------------------------------------------------------------------
# Self-check (cheap; runs at import)
# --------------------------------------------------------------------------


def _check() -> None:
    subjects = [d.subject for d in DEPARTMENTS]
    assert len(DEPARTMENTS) == 48, len(DEPARTMENTS)
    assert len(set(subjects)) == len(subjects), "duplicate subject code"
    assert len(set(d.name for d in DEPARTMENTS)) == len(DEPARTMENTS), "dup dept name"
    assert len(set(COLLEGES)) == len(COLLEGES)
    for d in DEPARTMENTS:
        assert d.college in COLLEGES, d
        assert 2 <= len(d.subject) <= 5 and d.subject.isalpha() and d.subject.isupper(), d
        assert len(d.cip_family) == 2 and d.cip_family.isdigit(), d
        assert d.cip_family in CIP_FAMILY_NAMES, d
    assert set(COLLEGES) == {d.college for d in DEPARTMENTS}, "unused college"
    assert set(CIP_FAMILY_NAMES) == {d.cip_family for d in DEPARTMENTS}
    assert set(COURSE_TOPICS) == set(subjects), "topics/subjects mismatch"
    for subject, topics in COURSE_TOPICS.items():
        assert len(topics) == 8 and len(set(topics)) == 8 and all(topics), subject
    assert set(PROGRAM_NAMES) == set(CAREER_DESCRIPTIONS) == {"UGRD", "GRAD", "PROF"}
    for programs in PROGRAM_NAMES.values():
        assert len(set(programs)) == len(programs) >= 8
    assert len(ACTIVITY_GROUP_NAMES) == 12 == len(set(ACTIVITY_GROUP_NAMES))
    assert tuple(ACTIVITY_TITLE_STEMS) == ACTIVITY_GROUP_NAMES
    assert len(CAMPUS_NAMES) == 6 == len(set(CAMPUS_NAMES))
    assert CAMPUS_NAMES[0] == "Main Campus"
    assert len(SPORTS) == 14 == len(set(SPORTS))


_check()
