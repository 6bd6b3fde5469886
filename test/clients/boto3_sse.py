"""Drives hangar's SSE-S3, SSE-KMS and bucket default encryption with boto3, for
test/clients/boto3-sse.test.ts.

Usage: python3 boto3_sse.py ENDPOINT BUCKET WORKDIR KEY_ID PENDING_BUCKET PENDING_KEY_ID
(credentials from AWS_* env vars). KEY_ID: an enabled keyring key. PENDING_BUCKET holds the
objects "pending" (under PENDING_KEY_ID, scheduled for deletion) and "disabled" (under a
disabled key), written by the test before this runs.

Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
"""

import base64
import json
import os
import sys

from boto3.s3.transfer import TransferConfig
from boto3_common import error_code, path_style_client, report

MiB = 1024 * 1024


def main(result: dict) -> None:
    endpoint, bucket, work = sys.argv[1], sys.argv[2], sys.argv[3]
    key_id, pending_bucket, pending_key_id = sys.argv[4], sys.argv[5], sys.argv[6]
    s3 = path_style_client(endpoint)
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

    result["unknownKey"] = error_code(lambda: s3.put_object(
        Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="aws:kms",
        SSEKMSKeyId="alias/none-such"))

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

    dsse_and_bucket_keys(s3, bucket, key_id, body, result)
    refused_keys(s3, pending_bucket, pending_key_id, result)

    s3.delete_bucket_encryption(Bucket=bucket)
    result["afterDelete"] = error_code(lambda: s3.get_bucket_encryption(Bucket=bucket))


def dsse_and_bucket_keys(s3, bucket: str, key_id: str, body: bytes, result: dict) -> None:
    """Dual-layer SSE-KMS, and what every multipart answer reports of a bucket key and context."""
    put = s3.put_object(Bucket=bucket, Key="dsse", Body=body, ServerSideEncryption="aws:kms:dsse",
                        SSEKMSKeyId=key_id)
    head = s3.head_object(Bucket=bucket, Key="dsse")
    ranged = s3.get_object(Bucket=bucket, Key="dsse", Range="bytes=5-99990")["Body"].read()
    result["dsse"] = {
        "put": put.get("ServerSideEncryption"),
        "head": head.get("ServerSideEncryption"),
        "sameKey": put.get("SSEKMSKeyId") == head.get("SSEKMSKeyId"),
        "rangeEqual": ranged == body[5:99991],
    }
    context = base64.b64encode(json.dumps({"client": "boto3"}).encode()).decode()
    created = s3.create_multipart_upload(Bucket=bucket, Key="bk", ServerSideEncryption="aws:kms",
                                         SSEKMSKeyId=key_id, BucketKeyEnabled=True,
                                         SSEKMSEncryptionContext=context)
    upload_id = created["UploadId"]
    part_body = os.urandom(5 * MiB)
    part = s3.upload_part(Bucket=bucket, Key="bk", UploadId=upload_id, PartNumber=1, Body=part_body)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="bk", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    head = s3.head_object(Bucket=bucket, Key="bk")
    result["bucketKey"] = {
        "create": [created.get("ServerSideEncryption"), created.get("BucketKeyEnabled"),
                   created.get("SSEKMSEncryptionContext") == context],
        "part": [part.get("ServerSideEncryption"), part.get("BucketKeyEnabled")],
        "complete": [done.get("ServerSideEncryption"), done.get("BucketKeyEnabled")],
        "head": [head.get("ServerSideEncryption"), head.get("BucketKeyEnabled"),
                 head.get("SSEKMSKeyId") == created.get("SSEKMSKeyId")],
        "equal": s3.get_object(Bucket=bucket, Key="bk")["Body"].read() == part_body,
    }
    result["badContext"] = error_code(lambda: s3.put_object(
        Bucket=bucket, Key="bad", Body=b"x", ServerSideEncryption="aws:kms",
        SSEKMSEncryptionContext=base64.b64encode(b"[1]").decode()))


def refused_keys(s3, bucket: str, pending_key_id: str, result: dict) -> None:
    """What a key pending deletion and a disabled key answer, as botocore reads it."""
    result["pendingGet"] = error_code(lambda: s3.get_object(Bucket=bucket, Key="pending"))
    result["pendingPut"] = error_code(lambda: s3.put_object(
        Bucket=bucket, Key="new", Body=b"x", ServerSideEncryption="aws:kms",
        SSEKMSKeyId=pending_key_id))
    result["disabledGet"] = error_code(lambda: s3.get_object(Bucket=bucket, Key="disabled"))
    result["pendingHead"] = s3.head_object(Bucket=bucket, Key="pending").get("SSEKMSKeyId")


if __name__ == "__main__":
    report(main)
