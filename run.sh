#!/usr/bin/env bash
# Build the worker image, launch, update or drain the streaming pipeline on Dataflow.
#   PROJECT=p REGION=europe-west1 ./run.sh image      build the worker image with Cloud Build
#   PROJECT=p REGION=europe-west1 ./run.sh launch     start the job
#   PROJECT=p REGION=europe-west1 ./run.sh update     replace it in place (TRANSFORM_NAME_MAPPING='{"Old":"New"}')
#   PROJECT=p REGION=europe-west1 ./run.sh drain      finish in-flight work and stop
# Optional: DATASET (events) BUCKET (PROJECT-ecom-ingest) JOB_NAME (ecom-ingest) MAX_WORKERS (5)
#   MACHINE_TYPE (n2-standard-2) BQ_WRITE_METHOD (streaming_inserts | storage_write_api)
#   PACKAGING (container: the worker image, nothing installed at worker start | setup_file:
#     Dataflow installs the package and its dependencies from PyPI on every worker)
#   IMAGE (default REGION-docker.pkg.dev/PROJECT/REPOSITORY/worker:TAG) REPOSITORY (ecom-ingest)
#   TAG (the checkout's short commit) NO_PUBLIC_IPS=1 and SUBNETWORK (regions/R/subnetworks/S:
#     workers without public IPs; needs Private Google Access, and the container packaging)
#   STREAMING_MODE (exactly_once | at_least_once: cheaper and lower latency, duplicates possible;
#     the deduplicated views absorb them) DRY_RUN=1 (print the commands instead of running them).
#   BUILD_SERVICE_ACCOUNT (the account Cloud Build runs as, given to ops.infra as
#     --build-service-account; default: the project's default, Compute Engine's account)
# The infrastructure must exist first: .venv/bin/python -m ops.infra --project ... --region ...
# Exit status: 0 done, 1 a command failed, 2 a usage error.
set -euo pipefail
cd "$(dirname "$0")"
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then usage; exit 0; fi
[[ -n "${PROJECT:-}" && -n "${REGION:-}" ]] || { echo "run.sh: set PROJECT and REGION" >&2; usage >&2; exit 2; }
DATASET=${DATASET:-events} BUCKET=${BUCKET:-$PROJECT-ecom-ingest} JOB_NAME=${JOB_NAME:-ecom-ingest}
REPOSITORY=${REPOSITORY:-ecom-ingest} PACKAGING=${PACKAGING:-container}
PY=${PY:-.venv/bin/python}
TAG_SET=${TAG:+1}
TAG=${TAG:-$(git rev-parse --short HEAD 2>/dev/null || echo latest)}
IMAGE=${IMAGE:-$REGION-docker.pkg.dev/$PROJECT/$REPOSITORY/worker:$TAG}
run() { if [[ -n "${DRY_RUN:-}" ]]; then local q; q=$(printf '%q ' "$@"); echo "${q% }"; else "$@"; fi; }

case "$PACKAGING" in container|setup_file) ;; *) echo "run.sh: PACKAGING is container or setup_file" >&2; exit 2 ;; esac
case "${STREAMING_MODE:-exactly_once}" in exactly_once|at_least_once) ;;
  *) echo "run.sh: STREAMING_MODE is exactly_once or at_least_once" >&2; exit 2 ;; esac
if [[ -n "${NO_PUBLIC_IPS:-}" && "$PACKAGING" == setup_file ]]; then
  echo "run.sh: workers without public IPs cannot install from PyPI; use PACKAGING=container" >&2
  exit 2
fi

case "${1:-launch}" in
  image)
    # The wheels built here (and tested: the installed-package tests) go into Beam's SDK image:
    # ecom-contracts (producer/) and ecom-ingest, which depends on it.
    # Its tag names a commit, so the tree must be that commit (or TAG be set by hand).
    if [[ -z "${TAG_SET:-}" && -n "$(git status --porcelain -- pipeline generated ecom_warehouse_runtime ecom_contracts producer pyproject.toml 2>/dev/null)" ]]; then
      echo "run.sh: uncommitted changes in the package; commit them (the image is tagged $TAG) or set TAG" >&2
      exit 2
    fi
    run rm -rf dist build producer/build
    run "$PY" -m build --wheel --no-isolation --outdir dist producer
    run "$PY" -m build --wheel --no-isolation --outdir dist .
    # The build is what `--tag` would run, written out so that it logs to Cloud Logging only
    # (the logging a build with a user-specified account must choose; ops.infra grants the build
    # account roles/logging.logWriter) and uploads its context to the bucket ops.infra grants it.
    config=$(mktemp "${TMPDIR:-/tmp}/ecom-ingest-build.XXXXXX")
    trap 'rm -f "$config"' EXIT
    {
      echo "steps:"
      echo "- name: gcr.io/cloud-builders/docker"
      echo "  args: [build, --tag, '$IMAGE', .]"
      echo "images: ['$IMAGE']"
      if [[ -n "${BUILD_SERVICE_ACCOUNT:-}" ]]; then
        echo "serviceAccount: projects/$PROJECT/serviceAccounts/$BUILD_SERVICE_ACCOUNT"
      fi
      echo "options:"
      echo "  logging: CLOUD_LOGGING_ONLY"
    } >"$config"
    [[ -n "${DRY_RUN:-}" ]] && sed 's/^/# build config: /' "$config"
    run gcloud builds submit --project "$PROJECT" --region "$REGION" --config "$config" \
      --gcs-source-staging-dir "gs://${PROJECT}_cloudbuild/source" . ;;
  launch|update)
    read -r -a deployment <<<"$("$PY" -m ops.infra pipeline-args --project "$PROJECT" --region "$REGION" \
      --dataset "$DATASET" --bucket "$BUCKET")"
    extra=()
    if [[ "${1:-launch}" == update ]]; then
      extra+=(--update --transform_name_mapping="${TRANSFORM_NAME_MAPPING:-{\}}")
    fi
    if [[ "$PACKAGING" == container ]]; then
      if [[ -z "${DRY_RUN:-}" ]] && ! gcloud artifacts docker images describe "$IMAGE" --project "$PROJECT" >/dev/null 2>&1; then
        echo "run.sh: no worker image $IMAGE; build it first: ./run.sh image (or set IMAGE/TAG)" >&2
        exit 1
      fi
      extra+=(--sdk_container_image "$IMAGE" --sdk_location container)
    else
      # Workers install the sdist of setup.py and its dependencies from PyPI; ecom-contracts is
      # built here and staged with it (Beam installs extra packages first).
      contracts_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' producer/pyproject.toml)
      run rm -rf producer/build
      run "$PY" -m build --wheel --no-isolation --outdir dist producer
      extra+=(--setup_file ./setup.py --extra_package "dist/ecom_contracts-$contracts_version-py3-none-any.whl")
    fi
    if [[ -n "${NO_PUBLIC_IPS:-}" ]]; then
      extra+=(--no_use_public_ips)
      [[ -n "${SUBNETWORK:-}" ]] && extra+=(--subnetwork "$SUBNETWORK")
    fi
    if [[ "${STREAMING_MODE:-exactly_once}" == at_least_once ]]; then
      extra+=(--dataflow_service_options=streaming_mode_at_least_once)
    fi
    run "$PY" -m pipeline.main "${deployment[@]}" "${extra[@]}" \
      --runner DataflowRunner --project "$PROJECT" --region "$REGION" --job_name "$JOB_NAME" \
      --streaming --enable_streaming_engine --autoscaling_algorithm THROUGHPUT_BASED \
      --max_num_workers "${MAX_WORKERS:-5}" --machine_type "${MACHINE_TYPE:-n2-standard-2}" \
      --service_account_email "ecom-ingest-pipeline@$PROJECT.iam.gserviceaccount.com" \
      --temp_location "gs://$BUCKET/temp" --staging_location "gs://$BUCKET/staging" \
      --experiments use_runner_v2 \
      --bq_write_method "${BQ_WRITE_METHOD:-streaming_inserts}" ;;
  drain)
    job=$(gcloud dataflow jobs list --project "$PROJECT" --region "$REGION" --status active \
      --filter "name=$JOB_NAME" --format 'value(id)' | head -n 1)
    [[ -n "$job" ]] || { echo "no active job named $JOB_NAME in $REGION" >&2; exit 1; }
    run gcloud dataflow jobs drain "$job" --project "$PROJECT" --region "$REGION" ;;
  *) echo "run.sh: unknown command ${1}" >&2; usage >&2; exit 2 ;;
esac
