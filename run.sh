#!/usr/bin/env bash
# Launch, update or drain the streaming pipeline on Dataflow.
#   PROJECT=p REGION=europe-west1 ./run.sh launch     start the job
#   PROJECT=p REGION=europe-west1 ./run.sh update     replace it in place (TRANSFORM_NAME_MAPPING='{"Old":"New"}')
#   PROJECT=p REGION=europe-west1 ./run.sh drain      finish in-flight work and stop
# Optional: DATASET (events) BUCKET (PROJECT-ecom-ingest) JOB_NAME (ecom-ingest) MAX_WORKERS (5)
#   MACHINE_TYPE (n2-standard-2) BQ_WRITE_METHOD (streaming_inserts | storage_write_api)
#   DRY_RUN=1 (print the command instead of running it).
# The infrastructure must exist first: .venv/bin/python -m ops.infra --project ... --region ...
set -euo pipefail
cd "$(dirname "$0")"
: "${PROJECT:?set PROJECT}" "${REGION:?set REGION}"
DATASET=${DATASET:-events} BUCKET=${BUCKET:-$PROJECT-ecom-ingest} JOB_NAME=${JOB_NAME:-ecom-ingest}
PY=${PY:-.venv/bin/python}
run() { if [[ -n "${DRY_RUN:-}" ]]; then printf '%q ' "$@"; echo; else "$@"; fi; }

case "${1:-launch}" in
  launch|update)
    read -r -a deployment <<<"$("$PY" -m ops.infra pipeline-args --project "$PROJECT" --region "$REGION" \
      --dataset "$DATASET" --bucket "$BUCKET")"
    extra=()
    if [[ "${1:-launch}" == update ]]; then
      extra=(--update --transform_name_mapping="${TRANSFORM_NAME_MAPPING:-{\}}")
    fi
    run "$PY" -m pipeline.main "${deployment[@]}" "${extra[@]}" \
      --runner DataflowRunner --project "$PROJECT" --region "$REGION" --job_name "$JOB_NAME" \
      --streaming --enable_streaming_engine --autoscaling_algorithm THROUGHPUT_BASED \
      --max_num_workers "${MAX_WORKERS:-5}" --machine_type "${MACHINE_TYPE:-n2-standard-2}" \
      --service_account_email "ecom-ingest-pipeline@$PROJECT.iam.gserviceaccount.com" \
      --temp_location "gs://$BUCKET/temp" --staging_location "gs://$BUCKET/staging" \
      --setup_file ./setup.py --experiments use_runner_v2 \
      --bq_write_method "${BQ_WRITE_METHOD:-streaming_inserts}" ;;
  drain)
    job=$(gcloud dataflow jobs list --project "$PROJECT" --region "$REGION" --status active \
      --filter "name=$JOB_NAME" --format 'value(id)' | head -n 1)
    [[ -n "$job" ]] || { echo "no active job named $JOB_NAME in $REGION" >&2; exit 1; }
    run gcloud dataflow jobs drain "$job" --project "$PROJECT" --region "$REGION" ;;
  *) echo "usage: $0 [launch|update|drain]" >&2; exit 2 ;;
esac
