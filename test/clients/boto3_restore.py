"""Drives hangar's storage classes and RestoreObject with boto3, for
test/clients/boto3-restore.test.ts.

Usage: python3 boto3_restore.py ENDPOINT BUCKET (credentials from AWS_* env vars; the server
restores in well under a second: HANGAR_RESTORE_DELAY_MS).

Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
"""

import sys
import time

from boto3_common import error_code, path_style_client, report


def main(result: dict) -> None:
    endpoint, bucket = sys.argv[1], sys.argv[2]
    s3 = path_style_client(endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="cold", Body=b"frozen", StorageClass="GLACIER")
    s3.put_object(Bucket=bucket, Key="warm", Body=b"x", StorageClass="STANDARD_IA")
    head = s3.head_object(Bucket=bucket, Key="cold")
    result["headClass"] = head.get("StorageClass")
    result["headRestoreBefore"] = head.get("Restore")
    result["listed"] = {
        o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]
    }
    result["getBefore"] = error_code(lambda: s3.get_object(Bucket=bucket, Key="cold"))
    result["badClass"] = error_code(
        lambda: s3.put_object(Bucket=bucket, Key="bad", Body=b"x", StorageClass="COLD")
    )
    started = s3.restore_object(
        Bucket=bucket,
        Key="cold",
        RestoreRequest={"Days": 2, "GlacierJobParameters": {"Tier": "Expedited"}},
    )
    result["restoreStatus"] = started["ResponseMetadata"]["HTTPStatusCode"]
    result["ongoing"] = s3.head_object(Bucket=bucket, Key="cold").get("Restore")
    result["notArchived"] = error_code(
        lambda: s3.restore_object(Bucket=bucket, Key="warm", RestoreRequest={"Days": 1})
    )
    deadline = time.time() + 15
    restore = None
    while time.time() < deadline:
        restore = s3.head_object(Bucket=bucket, Key="cold").get("Restore")
        if restore and 'ongoing-request="false"' in restore:
            break
        time.sleep(0.05)
    result["done"] = restore
    result["body"] = s3.get_object(Bucket=bucket, Key="cold")["Body"].read().decode()
    again = s3.restore_object(Bucket=bucket, Key="cold", RestoreRequest={"Days": 5})
    result["againStatus"] = again["ResponseMetadata"]["HTTPStatusCode"]


if __name__ == "__main__":
    report(main)
