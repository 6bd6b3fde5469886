"""Drives hangar with botocore's Signature V2 signer (signature_version 's3') for
test/clients/sigv2.test.ts.

Usage: python3 boto3_v2_client.py ENDPOINT BUCKET STYLE  (STYLE: path | virtual; credentials
from AWS_* env vars)

Prints one JSON object on stdout with what each step observed, and presigned V2 URLs (made with
signature_version 's3' as well) that the TypeScript test fetches with plain HTTP.
"""

import json
import socket
import sys
import traceback

import boto3
from botocore.config import Config

# Beside this script (its directory is on sys.path): the same deterministic bytes.
from boto3_client import seeded

MiB = 1024 * 1024


def resolve_localhost_subdomains() -> None:
    """Virtual-hosted names like BUCKET.s3.localhost are loopback (RFC 6761), which this
    machine's resolver may not know: resolve them to 127.0.0.1 in this process."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def main(result: dict) -> None:
    endpoint, bucket, style = sys.argv[1], sys.argv[2], sys.argv[3]
    if style == "virtual":
        resolve_localhost_subdomains()
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": style},
            signature_version="s3",
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )
    result["boto3"] = boto3.__version__

    s3.create_bucket(Bucket=bucket)
    result["bucketListed"] = bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    # A key with a space and a non-ASCII letter: the signed path is the path as sent.
    key = "dir/obj é 1.bin"
    small = seeded(100_000, 1)
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=small,
        ContentType="application/x-test",
        Metadata={"color": "blue"},
    )
    got = s3.get_object(Bucket=bucket, Key=key)
    result["get"] = {
        "equal": got["Body"].read() == small,
        "contentType": got["ContentType"],
        "metadata": got["Metadata"],
    }
    # response-* overrides are signed sub-resources.
    over = s3.get_object(
        Bucket=bucket,
        Key=key,
        ResponseContentType="text/plain",
        ResponseContentDisposition='attachment; filename="x.bin"',
    )
    over["Body"].read()
    result["overrides"] = {
        "contentType": over["ContentType"],
        "contentDisposition": over["ContentDisposition"],
    }

    # Multipart: ?uploads, ?partNumber=N&uploadId=X, ?uploadId=X are signed sub-resources.
    part1, part2 = seeded(5 * MiB, 2), seeded(1024, 3)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")
    upload_id = upload["UploadId"]
    etags = [
        s3.upload_part(
            Bucket=bucket, Key="big.bin", UploadId=upload_id, PartNumber=n, Body=body
        )["ETag"]
        for n, body in ((1, part1), (2, part2))
    ]
    listed_parts = s3.list_parts(Bucket=bucket, Key="big.bin", UploadId=upload_id)
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="big.bin",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"ETag": etag, "PartNumber": n} for n, etag in enumerate(etags, 1)]
        },
    )
    whole = s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read()
    result["multipart"] = {
        "parts": len(listed_parts["Parts"]),
        "etag": done["ETag"],
        "equal": whole == part1 + part2,
    }

    # ?tagging (signed), listings (their parameters unsigned), ?delete with Content-MD5.
    s3.put_object_tagging(
        Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]}
    )
    result["tags"] = s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"]
    for name in ("a/1", "a/2", "b/1"):
        s3.put_object(Bucket=bucket, Key=f"tree/{name}", Body=name.encode())
    v2 = s3.list_objects_v2(Bucket=bucket, Prefix="tree/", Delimiter="/")
    v1 = s3.list_objects(Bucket=bucket, Prefix="tree/a/", MaxKeys=1)
    result["list"] = {
        "prefixes": [p["Prefix"] for p in v2.get("CommonPrefixes", [])],
        "v1Keys": [o["Key"] for o in v1.get("Contents", [])],
        "v1Truncated": v1["IsTruncated"],
    }
    deleted = s3.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": f"tree/{n}"} for n in ("a/1", "a/2", "b/1")]},
    )
    result["deleted"] = sorted(d["Key"] for d in deleted.get("Deleted", []))
    s3.delete_object(Bucket=bucket, Key="big.bin")
    result["afterDelete"] = sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    )

    # Presigned V2 URLs (AWSAccessKeyId, Expires, Signature) for the test to fetch.
    result["presigned"] = {
        "get": s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=300
        ),
        "getOverride": s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": key, "ResponseContentType": "text/csv"},
            ExpiresIn=300,
        ),
        "put": s3.generate_presigned_url(
            "put_object", Params={"Bucket": bucket, "Key": "presigned.bin"}, ExpiresIn=300
        ),
        # botocore moves x-amz-meta-* and Content-Type into the query of a V2 URL.
        "putWithHeaders": s3.generate_presigned_url(
            "put_object",
            Params={
                "Bucket": bucket,
                "Key": "presigned-meta.bin",
                "Metadata": {"color": "green"},
                "ContentType": "text/x-moved",
            },
            ExpiresIn=300,
        ),
        "expired": s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=-60
        ),
    }
    # A V2 POST form (AWSAccessKeyId, policy, signature) for the test to post.
    result["presignedPost"] = s3.generate_presigned_post(
        bucket,
        "form/${filename}",
        Conditions=[["content-length-range", 1, 1000]],
        ExpiresIn=300,
    )
    result["key"] = key


if __name__ == "__main__":
    observed: dict = {}
    code = 0
    try:
        main(observed)
    except Exception:  # noqa: BLE001 - every failure is reported to the test as text
        observed["error"] = traceback.format_exc()
        code = 1
    print(json.dumps(observed))
    sys.exit(code)
