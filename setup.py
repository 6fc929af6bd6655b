"""The one thing pyproject.toml cannot say: which packages ship.

Every package under `pipeline/` and `distributions/` is found, whoever adds it; the dbt project
(`dbt/` at the repository root) is added as `pipeline._dbt_project`, which pyproject.toml's
[tool.setuptools.package-dir] maps to that folder. pyproject's `packages.find` cannot add a
mapped package to the ones it finds, so the list is made here.
"""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["pipeline", "pipeline.*",
                                        "distributions", "distributions.*"]),
                "pipeline._dbt_project"])
