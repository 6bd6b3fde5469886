"""Drives hangar's server access logs with boto3, for test/clients/boto3-logging.test.ts.

Usage: python3 boto3_logging.py ENDPOINT BUCKET  (credentials from AWS_* env vars)

Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
"""

import sys
import time

from boto3_common import error_code, path_style_client, report


def main(result: dict) -> None:
    endpoint, bucket = sys.argv[1], sys.argv[2]
    s3 = path_style_client(endpoint)
    target = bucket + "-logs"
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=target)
    result["missingTarget"] = error_code(
        lambda: s3.put_bucket_logging(
            Bucket=bucket,
            BucketLoggingStatus={
                "LoggingEnabled": {"TargetBucket": bucket + "-missing", "TargetPrefix": "x/"}
            },
        )
    )
    s3.put_bucket_logging(
        Bucket=bucket,
        BucketLoggingStatus={
            "LoggingEnabled": {
                "TargetBucket": target,
                "TargetPrefix": "b3/",
                "TargetObjectKeyFormat": {
                    "PartitionedPrefix": {"PartitionDateSource": "DeliveryTime"}
                },
            }
        },
    )
    enabled = s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]
    result["got"] = {
        "target": enabled["TargetBucket"],
        "prefix": enabled["TargetPrefix"],
        "dateSource": enabled["TargetObjectKeyFormat"]["PartitionedPrefix"]["PartitionDateSource"],
    }
    put = s3.put_object(Bucket=bucket, Key="k", Body=b"boto3")
    request_id = put["ResponseMetadata"]["RequestId"]
    deadline = time.time() + 20
    lines: list = []
    keys: list = []
    while time.time() < deadline:
        listing = s3.list_objects_v2(Bucket=target, Prefix="b3/")
        keys = [o["Key"] for o in listing.get("Contents", [])]
        lines = []
        for key in keys:
            body = s3.get_object(Bucket=target, Key=key)["Body"].read().decode()
            lines += [line for line in body.split("\n") if line]
        if any(request_id in line for line in lines):
            break
        time.sleep(0.1)
    record = next((line for line in lines if request_id in line), None)
    result["keys"] = keys
    result["record"] = record
    result["requestId"] = request_id
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    result["afterOff"] = "LoggingEnabled" in s3.get_bucket_logging(Bucket=bucket)


if __name__ == "__main__":
    report(main)
