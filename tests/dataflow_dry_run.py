"""The job translated for Dataflow offline, run by tests/test_dataflow_graph.py with the python
of a venv holding the installed wheel, from a folder outside the source tree.

    python dataflow_dry_run.py build GRAPH.pb FTE   # DataflowRunner --dry_run: the job graph
    python dataflow_dry_run.py worker GRAPH.pb      # a fresh process: unpickle every step

`build` builds the pipeline as the Flex Template launcher does (the Dataflow launcher's own
options, `--dry_run=True`: Beam translates the job and returns before any request), writes the
runner's pipeline proto and prints a JSON summary: every leaf step's name, URN and payload size,
and the pickled size of the job's config. `worker` plays a Dataflow worker: it loads the proto,
unpickles every ParDo's DoFn (so each module a step needs is imported from the installed
package) and runs `setup` of campus-synth's own DoFns (which builds the plan's engine); it
prints the DoFn classes and the files of the modules that were imported.
"""

from __future__ import annotations

import json
import pickle
import sys

from apache_beam.internal import pickler
from apache_beam.portability import common_urns
from apache_beam.portability.api import beam_runner_api_pb2

# what Dataflow's Python launcher passes (see tests/test_infra_dataflow.py), offline
LAUNCHER_ARGS = ["--runner=DataflowRunner", "--project=campus-synth-shared",
                 "--region=us-central1", "--job_name=campus-synth-dry-run",
                 "--temp_location=gs://campus-synth-staging/dataflow/temp",
                 "--staging_location=gs://campus-synth-staging/staging",
                 "--sdk_container_image=us-central1-docker.pkg.dev/p/campus-synth/df:1",
                 "--sdk_location=container", "--no_auth", "--dry_run=True"]
OUT = "gs://campus-synth-staging/runs/dry-run"
OURS = ("pipeline", "distributions")


def build(graph_path: str, fte: float) -> dict:
    """Translate the job for Dataflow; write its proto; return the summary."""
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from distributions import load_profile
    from pipeline.generate import GenerateWarehouse, JobConfig, Settings

    config = JobConfig(load_profile(), Settings(fte=fte, terms=1, event_days=2))
    job = beam.Pipeline(options=PipelineOptions(LAUNCHER_ARGS))
    _ = job | "Warehouse" >> GenerateWarehouse(config, OUT)
    job.run().wait_until_finish()
    proto = job.runner.proto_pipeline
    with open(graph_path, "wb") as handle:
        handle.write(proto.SerializeToString())
    steps = {t.unique_name: {"urn": t.spec.urn, "payload": len(t.spec.payload)}
             for t in proto.components.transforms.values() if not t.subtransforms}
    return {"steps": steps, "config_bytes": len(pickle.dumps(config)),
            "environments": [env.urn for env in proto.components.environments.values()]}


def worker(graph_path: str) -> dict:
    """Unpickle every DoFn of the graph in this (fresh) process; set up our own."""
    proto = beam_runner_api_pb2.Pipeline()
    with open(graph_path, "rb") as handle:
        proto.ParseFromString(handle.read())
    already = sorted(name for name in sys.modules if name.split(".")[0] in OURS)
    classes = {}
    for transform in proto.components.transforms.values():
        if transform.spec.urn != common_urns.primitives.PAR_DO.urn:
            continue
        payload = beam_runner_api_pb2.ParDoPayload.FromString(transform.spec.payload)
        do_fn = pickler.loads(payload.do_fn.payload)[0]
        fn_class = type(do_fn)
        if fn_class.__module__.split(".")[0] in OURS:
            do_fn.setup()
        classes[transform.unique_name] = f"{fn_class.__module__}.{fn_class.__qualname__}"
    files = {name: getattr(module, "__file__", None) for name, module in sys.modules.items()
             if name.split(".")[0] in OURS}
    return {"imported_before": already, "classes": classes, "module_files": files}


if __name__ == "__main__":
    command, graph = sys.argv[1], sys.argv[2]
    summary = build(graph, float(sys.argv[3])) if command == "build" else worker(graph)
    print(json.dumps(summary))
