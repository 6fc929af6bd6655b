"""The one thing pyproject.toml cannot say: which packages ship.

Every folder under `pipeline/` and `distributions/` is a package, found whoever adds it (data
folders such as `pipeline/udp/caliper_schemas` too, so their files ship as package data of
their own); the dbt project (`dbt/` at the repository root) and its folders are added as
`pipeline._dbt_project...`, which pyproject.toml's [tool.setuptools.package-dir] maps to `dbt/`.
pyproject's `packages.find` cannot add a mapped package to the ones it finds, so the list is
made here.
"""

from setuptools import find_namespace_packages, setup

SKIPPED = ["*__pycache__*"]
DBT_OUTPUT = ["target", "target.*", "logs", "logs.*", "dbt_packages", "dbt_packages.*"]

ours = find_namespace_packages(include=["pipeline", "pipeline.*", "distributions",
                                        "distributions.*"], exclude=SKIPPED)
dbt = find_namespace_packages(where="dbt", exclude=[*SKIPPED, *DBT_OUTPUT])
setup(packages=[*ours, "pipeline._dbt_project", *(f"pipeline._dbt_project.{p}" for p in dbt)])
