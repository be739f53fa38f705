"""``python -m ops.infra``: create or update the pipeline's infrastructure (``--dry-run``)."""

from __future__ import annotations

import argparse
import json
import sys

from ops.infra.plan import PROJECT_ROLES, REQUIRED_APIS, Settings, build_plan, pipeline_arguments


def main(argv: list[str] | None = None) -> int:
    """Print the plan, or apply it; ``pipeline-args`` prints the job's pipeline options."""
    parser = argparse.ArgumentParser(
        prog="python -m ops.infra",
        description="Pub/Sub schemas, topics and subscriptions, the BigQuery dataset and "
        "tables, the bucket and the job's service account, all from the contracts.",
    )
    parser.add_argument("command", nargs="?", choices=("apply", "pipeline-args"), default="apply")
    parser.add_argument("--project", required=True)
    parser.add_argument("--region", required=True, help="for the bucket, dataset and job")
    parser.add_argument("--dataset", default="events")
    parser.add_argument("--bucket", default="", help="default: PROJECT-ecom-ingest")
    parser.add_argument("--encoding", choices=("BINARY", "JSON"), default="BINARY")
    parser.add_argument("--project-number", default="", help="for Pub/Sub's service agent")
    parser.add_argument("--dry-run", action="store_true", help="print the plan; call no API")
    parser.add_argument("--json", action="store_true", help="with --dry-run: every request in full")
    args = parser.parse_args(argv)
    settings = Settings(args.project, args.region, args.dataset, args.bucket, args.encoding)
    if args.command == "pipeline-args":
        print(" ".join(pipeline_arguments(settings)))
        return 0
    steps = build_plan(settings, args.project_number or "{PROJECT_NUMBER}")
    if args.dry_run:
        print(f"APIs to enable first: gcloud services enable {' '.join(REQUIRED_APIS)}")
        print(f"service account {settings.service_account}, project roles:")
        for role, why in PROJECT_ROLES.items():
            print(f"  {role}: {why}")
        print(f"plan ({len(steps)} steps, nothing is called with --dry-run):")
        for step in steps:
            print(f"  {step.describe()}")
            if args.json:
                print("    " + json.dumps(step.request, sort_keys=True))
        return 0
    if not args.project_number:
        parser.error("--project-number is needed to grant Pub/Sub's service agent its roles")
    from ops.infra.apply import Clients, apply

    apply(Clients.real(settings), steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
