"""``python -m ops.infra``: create or update the pipeline's infrastructure, or show the plan.

Commands:
  apply          (default) make the project match the plan, idempotently
  diff           read the project and print what apply would change; change nothing
  pipeline-args  print the pipeline options of this deployment (used by run.sh)

With PUBSUB_EMULATOR_HOST, STORAGE_EMULATOR_HOST and BIGQUERY_EMULATOR_HOST set,
the plan goes to those local services and what they lack (IAM, Monitoring,
Artifact Registry, Pub/Sub schemas, BigQuery subscriptions) is skipped, said.

``--dry-run`` prints the plan without calling any API. Exit status: 0 done,
1 a step could not be applied (the message says what to do), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys

from ops.infra.plan import (
    BUILD_ROLES,
    PROJECT_ROLES,
    REQUIRED_APIS,
    build_plan,
    pipeline_arguments,
)
from ops.infra.settings import Settings, request_json


def parser() -> argparse.ArgumentParser:
    """Return the command's argument parser."""
    parsing = argparse.ArgumentParser(
        prog="python -m ops.infra",
        description="Pub/Sub schemas, topics and subscriptions (the pipeline's and the raw "
        "landing ones), the BigQuery dataset, tables, views and raw tables, the bucket, the "
        "worker image repository, the job's service account and its rights, alert policies "
        "and a dashboard: all derived from the contracts.",
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parsing.add_argument(
        "command", nargs="?", choices=("apply", "diff", "pipeline-args"), default="apply"
    )
    parsing.add_argument("--project", required=True, help="Google Cloud project id")
    parsing.add_argument("--region", required=True, help="for the bucket, dataset, repository, job")
    parsing.add_argument("--dataset", default="events", help="BigQuery dataset (default: events)")
    parsing.add_argument("--bucket", default="", help="default: PROJECT-ecom-ingest")
    parsing.add_argument(
        "--encoding",
        choices=("BINARY", "JSON"),
        default="BINARY",
        help="message encoding the topics' schemas require (applied to existing topics too)",
    )
    parsing.add_argument(
        "--project-number",
        default="",
        help="the project's number, for Pub/Sub's service agent (raw landing) and the Compute "
        "Engine default service account (builds); required by apply and diff",
    )
    parsing.add_argument(
        "--build-service-account",
        default="",
        metavar="EMAIL",
        help="the account Cloud Build runs ./run.sh image as (pass the same to run.sh as "
        "BUILD_SERVICE_ACCOUNT); default: the Compute Engine default service account, "
        "PROJECT_NUMBER-compute@developer.gserviceaccount.com",
    )
    parsing.add_argument("--job-name", default="ecom-ingest", help="Dataflow job the alerts watch")
    parsing.add_argument(
        "--pii-policy-tag",
        default="",
        help="Data Catalog policy tag (projects/P/locations/L/taxonomies/T/policyTags/G) for "
        "PII columns; without it, policy tags are left as they are",
    )
    parsing.add_argument(
        "--keep-revisions",
        type=int,
        default=0,
        metavar="N",
        help="topics accept only the newest N schema revisions; default: every revision from "
        "the topic's first",
    )
    parsing.add_argument(
        "--delete-unaccepted-revisions",
        action="store_true",
        help="delete schema revisions no topic of the project accepts (also to make room at "
        "Pub/Sub's limit of 20). Without it they are kept and reported: a topic of another "
        "project may use the schema, and no request lists such topics",
    )
    parsing.add_argument(
        "--no-raw-landing",
        action="store_true",
        help="no BigQuery subscriptions landing every message in raw tables",
    )
    parsing.add_argument(
        "--raw-dataset", default="", help="dataset of the raw landing tables (default: DATASET_raw)"
    )
    parsing.add_argument(
        "--raw-retention-days",
        type=int,
        default=90,
        metavar="N",
        help="raw landing partitions expire after N days (0: never)",
    )
    parsing.add_argument(
        "--notification-channel",
        action="append",
        default=[],
        metavar="projects/P/notificationChannels/ID",
        help="where alerts are sent (repeatable)",
    )
    parsing.add_argument("--repository", default="ecom-ingest", help="Artifact Registry repository")
    parsing.add_argument("--dry-run", action="store_true", help="print the plan; call no API")
    parsing.add_argument(
        "--json", action="store_true", help="with --dry-run: every request in full"
    )
    return parsing


def main(argv: list[str] | None = None) -> int:
    """Print the plan, show the diff, or apply it; ``pipeline-args`` prints the job's options."""
    parsing = parser()
    args = parsing.parse_args(argv)
    if args.keep_revisions < 0:
        parsing.error("--keep-revisions must be 0 (keep all) or more")
    if args.raw_retention_days < 0:
        parsing.error("--raw-retention-days must be 0 (keep) or more")
    settings = Settings(
        project=args.project,
        region=args.region,
        dataset=args.dataset,
        bucket=args.bucket,
        encoding=args.encoding,
        job_name=args.job_name,
        raw_landing=not args.no_raw_landing,
        raw_dataset=args.raw_dataset,
        raw_retention_days=args.raw_retention_days,
        pii_policy_tag=args.pii_policy_tag,
        keep_revisions=args.keep_revisions,
        delete_unaccepted_revisions=args.delete_unaccepted_revisions,
        repository=args.repository,
        project_number=args.project_number or "{PROJECT_NUMBER}",
        notification_channels=tuple(args.notification_channel),
        build_service_account=args.build_service_account,
    )
    if args.command == "pipeline-args":
        print(" ".join(pipeline_arguments(settings)))
        return 0
    steps = build_plan(settings)
    if args.dry_run:
        print(f"APIs to enable first: gcloud services enable {' '.join(REQUIRED_APIS)}")
        print(f"service account {settings.service_account}, project roles:")
        for role, why in PROJECT_ROLES.items():
            print(f"  {role}: {why}")
        print(f"Cloud Build runs as {settings.build_account}:")
        for where, (role, why) in BUILD_ROLES.items():
            print(f"  {role} on the {where}: {why}")
        print(f"plan ({len(steps)} steps, nothing is called with --dry-run):")
        for step in steps:
            print(f"  {step.describe()}")
            if args.json:
                print("    " + json.dumps(request_json(step.request), sort_keys=True))
        return 0
    from ops.infra.emulated import HalfLocalError, emulated

    try:
        local = emulated()
    except HalfLocalError as error:
        parsing.error(str(error))
    if not args.project_number and settings.raw_landing and not local:
        parsing.error(
            "--project-number is needed for Pub/Sub's service agent, which writes the raw "
            "landing tables (or pass --no-raw-landing)"
        )
    if not args.project_number and not settings.build_service_account and not local:
        parsing.error(
            "--project-number is needed for the Compute Engine default service account, which "
            "Cloud Build runs ./run.sh image as (or pass --build-service-account)"
        )
    from ops.infra.apply import apply
    from ops.infra.context import Clients, Context, InfraError

    clients = Clients.local(settings) if local else Clients.real(settings)
    context = Context(clients, settings, changes=args.command == "apply", local=local)
    if local:
        print("on the local services named by the emulator variables; what they lack is skipped")
    try:
        changed = apply(context, steps)
    except InfraError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    verb = "changed" if context.changes else "would change"
    skipped = f"; {len(context.skipped)} skipped (no local service)" if local else ""
    print(f"{changed} of {len(steps)} steps {verb}{skipped}; {len(context.warnings)} warning(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
