# The Dataflow worker image: Beam's Python SDK image of the pinned Beam version (and Python),
# with this project's wheels and their pinned run-time dependencies preinstalled, so a worker
# installs nothing when it starts and needs no internet access (workers without public IPs).
# Built by `./run.sh image` (the wheel first, then Cloud Build); launched by `./run.sh launch`
# with --sdk_container_image IMAGE --sdk_location container. Keep BEAM_VERSION equal to the
# apache-beam pin in pyproject.toml (a test checks it): the launcher and the workers must run
# the same Beam.
ARG BEAM_VERSION=2.77.0
FROM apache/beam_python3.11_sdk:${BEAM_VERSION}

COPY dist/ /tmp/dist/
# Both wheels (`make dist`): the pipeline, ecom-ingest, depends on the contracts, ecom-contracts.
# A worker gets the run-time packages only (pipeline, ecom_warehouse, ecom_warehouse_runtime,
# and the contracts'); the toolchain (contracts) and operations (ops) stay in the checkout.
RUN pip install --no-cache-dir --disable-pip-version-check \
      /tmp/dist/ecom_contracts-*.whl /tmp/dist/ecom_ingest-*.whl \
    && rm -rf /tmp/dist \
    && python -c "import pipeline.main, pipeline.sinks.bigquery, ecom_warehouse.artifacts, ecom_warehouse_runtime, ecom_ingest_pb, ecom_contracts" \
    && python -c "import importlib.util as u; assert not (u.find_spec('contracts') or u.find_spec('ops'))"
