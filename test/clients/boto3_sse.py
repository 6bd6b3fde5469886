"""Drives hangar's SSE-S3, SSE-KMS and bucket default encryption with boto3, for
test/clients/boto3-sse.test.ts.

Usage: python3 boto3_sse.py ENDPOINT BUCKET WORKDIR  (credentials from AWS_* env vars)

Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
"""

import json
import os
import sys
import traceback

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def main(result: dict) -> None:
    endpoint, bucket, work = sys.argv[1], sys.argv[2], sys.argv[3]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(100_000)

    put = s3.put_object(Bucket=bucket, Key="s3", Body=body, ServerSideEncryption="AES256")
    got = s3.get_object(Bucket=bucket, Key="s3")
    result["sseS3"] = {
        "put": put.get("ServerSideEncryption"),
        "get": got.get("ServerSideEncryption"),
        "equal": got["Body"].read() == body,
    }

    put = s3.put_object(Bucket=bucket, Key="kms", Body=body, ServerSideEncryption="aws:kms")
    head = s3.head_object(Bucket=bucket, Key="kms")
    ranged = s3.get_object(Bucket=bucket, Key="kms", Range="bytes=1000-1999")["Body"].read()
    result["kms"] = {
        "put": put.get("ServerSideEncryption"),
        "keyId": put.get("SSEKMSKeyId"),
        "head": head.get("ServerSideEncryption"),
        "headKeyId": head.get("SSEKMSKeyId"),
        "rangeEqual": ranged == body[1000:2000],
    }

    try:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="aws:kms",
                      SSEKMSKeyId="alias/none-such")
        result["unknownKey"] = None
    except ClientError as error:
        result["unknownKey"] = error.response["Error"]["Code"]

    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    config = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    result["defaultAlgorithm"] = config["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]

    # A 12 MiB upload_file: multipart under the bucket default, then downloaded whole.
    source = os.path.join(work, "big.bin")
    with open(source, "wb") as f:
        f.write(os.urandom(12 * MiB))
    transfer = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(source, bucket, "big", Config=transfer)
    target = os.path.join(work, "big.out")
    s3.download_file(bucket, "big", target, Config=transfer)
    with open(source, "rb") as a, open(target, "rb") as b:
        result["multipartEqual"] = a.read() == b.read()
    result["multipartSse"] = s3.head_object(Bucket=bucket, Key="big").get("ServerSideEncryption")

    s3.delete_bucket_encryption(Bucket=bucket)
    try:
        s3.get_bucket_encryption(Bucket=bucket)
        result["afterDelete"] = None
    except ClientError as error:
        result["afterDelete"] = error.response["Error"]["Code"]


if __name__ == "__main__":
    observed: dict = {}
    try:
        main(observed)
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        observed["error"] = traceback.format_exc()
    print(json.dumps(observed))
