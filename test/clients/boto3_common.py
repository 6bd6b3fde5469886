"""What the boto3 scripts under test/clients share: the client they drive hangar with, how they
read an S3 error code, and how they report to their TypeScript test (one JSON object on stdout).

Each script is run as `python3 test/clients/boto3_x.py ...`, so this file's folder is on
sys.path and a plain `import boto3_common` finds it.
"""

import json
import traceback
from collections.abc import Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def path_style_client(endpoint: str):
    """A SigV4 client for hangar at `endpoint`, path-style (credentials from AWS_* env vars)."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )


def error_code(call: Callable[[], object]) -> str | None:
    """The S3 error code `call` fails with, or None when it succeeds."""
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"]
    return None


def report(main: Callable[[dict], None]) -> None:
    """Runs `main(observed)` and prints what it observed; a failure is reported as `error` (the
    trace), which the test fails on."""
    observed: dict = {}
    try:
        main(observed)
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        observed["error"] = traceback.format_exc()
    print(json.dumps(observed))
