"""`campus-synth publish` and `run --target bigquery`: the real google-cloud-bigquery client
against a BigQuery API on loopback (bqemulator, tests/bqemu/), in a project of its own.

One small run (300 FTE, three days of events) is generated and published once; the tests
after it build on that publication in order (idempotent re-publish, a failed check, the
recovery, a failed dbt build, a failed switch, the switch back, retention). dbt builds a
small selection of the project here (the whole project takes about a minute on the emulator;
the full build is the same code).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import parquet_connection

from pipeline import REGISTRY
from pipeline.cli import main
from pipeline.outputs import _publish_switch, _run_datasets
from pipeline.outputs._run_datasets import RUN_PREFIX

PROJECT = "shared-project"          # consumers query `shared-project.dataset.table`
DBT_SELECT = ["+mart_general__tool_usage_metrics"]
EVENTS = "event_store.expanded"


@pytest.fixture(scope="module")
def endpoint(bigquery_emulator) -> str:
    return bigquery_emulator._connection.API_BASE_URL


@pytest.fixture(scope="module")
def client(bigquery_emulator, endpoint):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    return bigquery.Client(project=PROJECT, credentials=AnonymousCredentials(),
                           client_options={"api_endpoint": endpoint})


@pytest.fixture(scope="module")
def first(tmp_path_factory, endpoint, client) -> Path:
    """`campus-synth run --target bigquery`: generated, loaded, built, checked, published."""
    out = tmp_path_factory.mktemp("publish") / "w"
    code = main(["run", "--fte", "300", "--event-days", "3", "--seed", "0", "--out", str(out),
                 "--target", "bigquery", "--project", PROJECT, "--api-endpoint", endpoint,
                 "--run-id", "r1", "--dbt-select", *DBT_SELECT])
    assert code == 0
    return out


def _publish_cli(out: Path, endpoint: str, run_id: str, *extra: str) -> int:
    return main(["publish", "--project", PROJECT, "--out", str(out), "--api-endpoint", endpoint,
                 "--run-id", run_id, "--dbt-select", *DBT_SELECT, *extra])


def _rows(client, sql: str) -> list[tuple]:
    return sorted(tuple(r.values()) for r in client.query(sql).result())


def _consumer_state(client) -> dict:
    """Every consumer-facing table: its labels, rows, description and schema, modified time."""
    state = {}
    for name in _run_datasets.CONSUMER_DATASETS:
        try:
            items = list(client.list_tables(f"{PROJECT}.{name}"))
        except Exception:  # noqa: BLE001 - a dataset that does not exist
            continue
        for item in items:
            table = client.get_table(item.reference)
            state[f"{name}.{table.table_id}"] = (
                tuple(sorted((table.labels or {}).items())), table.num_rows, table.description,
                tuple((f.name, f.field_type, f.description) for f in table.schema),
                table.modified)
    return state


def _runs(client) -> set[str]:
    return {d.dataset_id[len(RUN_PREFIX):].split("__")[0] for d in client.list_datasets(PROJECT)
            if d.dataset_id.startswith(RUN_PREFIX)}


def _run_of(client, table: str = EVENTS) -> str:
    return client.get_table(f"{PROJECT}.{table}").labels["campus_synth_run"]


# ---- the first publication ------------------------------------------------------------------
def test_a_small_run_publishes_every_table(first, client):
    manifest = json.loads((first / "campus-synth.json").read_text())
    tables = {}
    for dataset in ("context_store_entity", "context_store_keymap", "event_store",
                    "mart_general"):
        for (name,) in _rows(client, f"select table_name from `{PROJECT}.{dataset}"
                                     ".INFORMATION_SCHEMA.TABLES`"):
            tables[f"{dataset}.{name}"] = client.get_table(f"{PROJECT}.{dataset}.{name}")
    want = {t.qualified_name for t in REGISTRY} | {EVENTS, "mart_general.tool_usage_metrics"}
    assert set(tables) >= want
    for name in set(manifest["tables"]):           # every row arrived
        assert tables[name].num_rows == manifest["tables"][name], name
    # labels name the run, seed, profile and FTE; descriptions on tables and columns
    settings, digest = manifest["settings"], manifest["profile"]["sha256"]
    for name in want:
        table = tables[name]
        assert table.labels == {"campus_synth_run": "r1", "seed": str(settings["seed"]),
                                "fte": "300", "profile_sha256": digest[:16],
                                "tool": "campus-synth"}, name
        assert table.description, name
        assert any(f.description for f in table.schema), name
    events = tables[EVENTS]
    assert events.time_partitioning.field == "event_date"
    assert events.clustering_fields == ["tool", "ucdm_course_offering_id"]
    assert tables["mart_general.tool_usage_metrics"].schema[0].description


def test_the_event_store_joins_the_context_store_as_in_duckdb(first, client):
    sql = """
        select o.course_offering_id, count(*) as events, count(distinct p.person_id) as people
        from {p}event_store.expanded as e
        join {p}context_store_entity.course_offering as o
          on o.course_offering_id = e.ucdm_course_offering_id
        join {p}context_store_entity.person as p on p.person_id = e.person.udp_id
        group by o.course_offering_id"""
    published = _rows(client, sql.format(p=f"`{PROJECT}`."))
    with parquet_connection(first) as duck:
        local = sorted(duck.execute(sql.format(p="")).fetchall())
    assert published == local and sum(r[1] for r in local) > 1000


def test_publishing_the_same_run_again_changes_nothing(first, client, endpoint, capsys):
    before, runs = _consumer_state(client), _runs(client)
    assert _publish_cli(first, endpoint, "r1") == 0
    assert "run r1 is already published; nothing changed" in capsys.readouterr().out
    assert _consumer_state(client) == before and _runs(client) == runs


# ---- failures leave the publication as it was -----------------------------------------------
def test_a_failed_check_leaves_the_publication_untouched(first, client, endpoint, tmp_path,
                                                         capsys):
    broken = tmp_path / "w"
    shutil.copytree(first, broken)
    manifest = json.loads((broken / "campus-synth.json").read_text())
    manifest["tables"]["context_store_entity.person"] += 1   # the load will not match it
    manifest["settings"]["seed"] = 1                          # (another run's manifest)
    (broken / "campus-synth.json").write_text(json.dumps(manifest))
    before = _consumer_state(client)
    assert _publish_cli(broken, endpoint, "r2") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "step check rows failed: context_store_entity.person holds" in err
    assert "the consumer-facing datasets were not changed" in err
    assert _consumer_state(client) == before
    # the next run recovers: the same run id, its manifest now right
    manifest["tables"]["context_store_entity.person"] -= 1
    (broken / "campus-synth.json").write_text(json.dumps(manifest))
    assert _publish_cli(broken, endpoint, "r2") == 0
    assert "previous run: r1" in " ".join(capsys.readouterr().out.split())
    assert _run_of(client) == "r2" and _run_of(client, "context_store_entity.person") == "r2"
    assert client.get_table(f"{PROJECT}.{EVENTS}").labels["seed"] == "1"
    assert {"r1", "r2"} <= _runs(client)


def test_a_failed_dbt_build_leaves_the_publication_untouched(first, client, endpoint):
    """dbt reads an event store that is not there (a --vars override): the dbt step fails."""
    from pipeline.errors import PublishError
    from pipeline.outputs._publish import publish

    before, lines = _consumer_state(client), []
    with pytest.raises(PublishError) as failed:
        publish(str(first), PROJECT, run_id="r3", client=client, api_endpoint=endpoint,
                dbt_select=DBT_SELECT, dbt_variables={"event_store_schema": "no_such_dataset"},
                echo=lines.append)
    message = str(failed.value)
    assert message.startswith("publish r3: step dbt failed: dbt build") and "\n" not in message
    assert message.endswith("the consumer-facing datasets were not changed")
    assert "dbt …" in lines and "switch …" not in lines
    assert _consumer_state(client) == before and "r3" in _runs(client)


def test_a_failed_switch_restores_the_previous_run(first, client, endpoint, monkeypatch,
                                                   capsys):
    assert _run_of(client) == "r2"
    before = {k: v[:4] for k, v in _consumer_state(client).items()}
    copy = _publish_switch._copy_dataset
    calls = []

    def failing(client_, project, prefix, name, location):
        calls.append(name)
        if name == "event_store":
            raise RuntimeError("copy job failed (injected)")
        return copy(client_, project, prefix, name, location)

    monkeypatch.setattr(_publish_switch, "_copy_dataset", failing)
    # r1 is kept for rollback: switching back to it needs no load
    assert _publish_cli(first, endpoint, "r1") == 1
    err = capsys.readouterr().err
    assert "step switch failed: copy job failed (injected)" in err
    assert "restored to the previous run" in err
    assert calls[:3] == ["context_store_entity", "context_store_keymap", "event_store"]
    assert {k: v[:4] for k, v in _consumer_state(client).items()} == before
    monkeypatch.undo()
    # without the fault, the switch back (rollback) to r1 goes through
    assert _publish_cli(first, endpoint, "r1", "--retain", "1") == 0
    printed = " ".join(capsys.readouterr().out.split())     # unwrapped
    assert "switching to it without loading" in printed and "deleted runs: r2" in printed
    assert _run_of(client) == "r1" and _runs(client) == {"r1"}


# ---- credentials ----------------------------------------------------------------------------
def test_a_missing_keyfile_is_a_one_line_error(first, tmp_path, capsys):
    code = main(["publish", "--project", PROJECT, "--out", str(first), "--keyfile",
                 str(tmp_path / "missing.json")])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err == f"campus-synth: error: --keyfile {tmp_path / 'missing.json'}: " \
                                "no such file"


def test_a_refused_credential_is_a_one_line_error(first, tmp_path, endpoint, capsys):
    """A well-formed service-account key whose token exchange fails."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    keyfile = tmp_path / "key.json"
    keyfile.write_text(json.dumps({
        "type": "service_account", "project_id": PROJECT, "private_key_id": "0",
        "private_key": pem, "client_email": "nobody@shared-project.iam.gserviceaccount.com",
        "client_id": "0", "token_uri": f"{endpoint}/token-refused"}))
    code = main(["publish", "--project", PROJECT, "--out", str(first), "--keyfile",
                 str(keyfile), "--api-endpoint", endpoint])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "step credentials: the credentials were refused" in err
