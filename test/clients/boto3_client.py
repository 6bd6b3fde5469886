"""Drives hangar with boto3 (default checksum behaviour, path-style) for test/clients/boto3.test.ts.

Usage: python3 boto3_client.py ENDPOINT BUCKET WORKDIR  (credentials from AWS_* env vars)

Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
Byte comparisons happen here (the data never leaves this process except through hangar) and are
reported as booleans plus sizes, so a failure names the step.
"""

import hashlib
import json
import os
import subprocess
import sys
import traceback

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MiB = 1024 * 1024


def seeded(length: int, seed: int) -> bytes:
    """Deterministic bytes: SHA-256 in counter mode (fast enough for tens of MiB)."""
    out = bytearray()
    counter = 0
    prefix = seed.to_bytes(8, "big")
    while len(out) < length:
        out += hashlib.sha256(prefix + counter.to_bytes(8, "big")).digest() * 64
        counter += 1
    return bytes(out[:length])


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "-f", *args], capture_output=True, timeout=60)


def main(result: dict) -> None:
    endpoint, bucket, work = sys.argv[1], sys.argv[2], sys.argv[3]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )
    result["boto3"] = boto3.__version__

    s3.create_bucket(Bucket=bucket)
    result["bucketListed"] = bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    # put_object / get_object with a small body and metadata.
    small = seeded(100_000, 1)
    put = s3.put_object(
        Bucket=bucket,
        Key="small/obj.bin",
        Body=small,
        ContentType="application/x-test",
        Metadata={"owner": "boto3"},
    )
    result["put"] = {
        "etag": put["ETag"],
        "md5": '"' + hashlib.md5(small).hexdigest() + '"',
        "checksumCRC32": put.get("ChecksumCRC32"),
    }
    got = s3.get_object(Bucket=bucket, Key="small/obj.bin")
    result["getSmallEqual"] = got["Body"].read() == small

    # upload_file multipart: 17 MiB in 5 MiB parts -> 4 parts.
    big = seeded(17 * MiB, 2)
    big_path = os.path.join(work, "big.bin")
    with open(big_path, "wb") as f:
        f.write(big)
    transfer = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
    s3.upload_file(big_path, bucket, "big/seventeen.bin", Config=transfer)
    back_path = os.path.join(work, "big.back")
    s3.download_file(bucket, "big/seventeen.bin", back_path, Config=transfer)
    with open(back_path, "rb") as f:
        result["downloadEqual"] = f.read() == big

    head = s3.head_object(Bucket=bucket, Key="big/seventeen.bin")
    result["headBig"] = {
        "contentLength": head["ContentLength"],
        "etag": head["ETag"],
        "hasLastModified": "LastModified" in head,
    }
    head_small = s3.head_object(Bucket=bucket, Key="small/obj.bin")
    result["headSmall"] = {
        "contentLength": head_small["ContentLength"],
        "contentType": head_small["ContentType"],
        "metadata": head_small["Metadata"],
        "etag": head_small["ETag"],
    }

    # list_objects_v2, flat and with a delimiter.
    listed = s3.list_objects_v2(Bucket=bucket)
    result["list"] = sorted((o["Key"], o["Size"]) for o in listed.get("Contents", []))
    delimited = s3.list_objects_v2(Bucket=bucket, Delimiter="/")
    result["prefixes"] = sorted(p["Prefix"] for p in delimited.get("CommonPrefixes", []))

    # Presigned GET fetched with curl.
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "small/obj.bin"}, ExpiresIn=300
    )
    fetched = curl(url)
    result["presignedGet"] = {
        "code": fetched.returncode,
        "stderr": fetched.stderr.decode(errors="replace"),
        "equal": fetched.stdout == small,
    }

    # Presigned PUT uploaded with curl, read back with boto3.
    put_body = seeded(300_000, 3)
    put_path = os.path.join(work, "presigned.bin")
    with open(put_path, "wb") as f:
        f.write(put_body)
    put_url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "presigned/put.bin"}, ExpiresIn=300
    )
    uploaded = curl("-X", "PUT", "--data-binary", "@" + put_path, put_url)
    result["presignedPut"] = {
        "code": uploaded.returncode,
        "stderr": uploaded.stderr.decode(errors="replace"),
    }
    if uploaded.returncode == 0:
        back = s3.get_object(Bucket=bucket, Key="presigned/put.bin")["Body"].read()
        result["presignedPut"]["equal"] = back == put_body

    # delete_objects, then the bucket is empty and can go.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    deleted = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys], "Quiet": False}
    )
    result["deleted"] = sorted(d["Key"] for d in deleted.get("Deleted", []))
    result["deleteErrors"] = deleted.get("Errors", [])
    result["afterDeleteKeyCount"] = s3.list_objects_v2(Bucket=bucket)["KeyCount"]
    s3.delete_bucket(Bucket=bucket)
    result["bucketGone"] = bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    versioned(s3, endpoint, bucket + "-versioned", result)


def versioned(s3, endpoint: str, bucket: str, result: dict) -> None:
    """A versioned bucket emptied the way cleanup scripts do: object_versions.delete()."""
    resource = boto3.resource(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )
    s3.create_bucket(Bucket=bucket)
    resource.BucketVersioning(bucket).enable()
    result["versioningStatus"] = s3.get_bucket_versioning(Bucket=bucket).get("Status")
    ids = [s3.put_object(Bucket=bucket, Key=f"v/{i % 3}", Body=b"x" * i)["VersionId"] for i in range(9)]
    result["versionIdsDistinct"] = len(set(ids)) == 9
    s3.delete_object(Bucket=bucket, Key="v/0")
    listed = s3.list_object_versions(Bucket=bucket)
    result["versionsListed"] = len(listed.get("Versions", []))
    result["markersListed"] = len(listed.get("DeleteMarkers", []))
    try:
        s3.delete_bucket(Bucket=bucket)
        result["deleteBucketRefused"] = None
    except ClientError as error:
        result["deleteBucketRefused"] = error.response["Error"]["Code"]
    resource.Bucket(bucket).object_versions.delete()
    result["versionsAfterCleanup"] = len(s3.list_object_versions(Bucket=bucket).get("Versions", []))
    s3.delete_bucket(Bucket=bucket)
    result["versionedBucketGone"] = bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


if __name__ == "__main__":
    # Always print what was observed; a failing step adds "error" (the traceback) and exit 1.
    observed: dict = {}
    try:
        main(observed)
    except Exception:  # noqa: BLE001 - reported to the test, which fails on it
        observed["error"] = traceback.format_exc()
        print(json.dumps(observed))
        sys.exit(1)
    print(json.dumps(observed))
