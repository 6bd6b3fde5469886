"""Drives hangar's inventory configurations and reports with boto3, for
test/clients/boto3-inventory.test.ts.

Usage: python3 boto3_inventory.py ENDPOINT BUCKET configure|read
  configure: creates BUCKET and BUCKET-dst, objects, a configuration; round trips and errors.
  read: finds the report's manifest, checks manifest.checksum, reads the gzip CSV rows.

Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
"""

import csv
import gzip
import hashlib
import io
import json
import sys

from boto3_common import error_code, path_style_client, report


def configure(s3, bucket, result):
    dest = bucket + "-dst"
    s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=dest)
    for key in ["data/one", "data/two words", "other/three"]:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    config = {
        "Id": "b3",
        "IsEnabled": True,
        "Destination": {
            "S3BucketDestination": {
                "Bucket": "arn:aws:s3:::" + dest,
                "Format": "CSV",
                "Prefix": "boto",
            }
        },
        "Filter": {"Prefix": "data/"},
        "IncludedObjectVersions": "Current",
        "OptionalFields": ["Size", "ETag"],
        "Schedule": {"Frequency": "Weekly"},
    }
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="b3", InventoryConfiguration=config)
    got = s3.get_bucket_inventory_configuration(Bucket=bucket, Id="b3")
    result["roundTrip"] = got["InventoryConfiguration"] == config
    listed = s3.list_bucket_inventory_configurations(Bucket=bucket)
    result["listed"] = [c["Id"] for c in listed.get("InventoryConfigurationList", [])]
    result["missing"] = error_code(
        lambda: s3.get_bucket_inventory_configuration(Bucket=bucket, Id="nope")
    )
    orc = dict(config, Id="orc")
    orc["Destination"] = {"S3BucketDestination": dict(config["Destination"]["S3BucketDestination"], Format="ORC")}
    result["orc"] = error_code(
        lambda: s3.put_bucket_inventory_configuration(Bucket=bucket, Id="orc", InventoryConfiguration=orc)
    )
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="gone", InventoryConfiguration=dict(config, Id="gone"))
    s3.delete_bucket_inventory_configuration(Bucket=bucket, Id="gone")
    result["deleted"] = error_code(
        lambda: s3.get_bucket_inventory_configuration(Bucket=bucket, Id="gone")
    )


def read(s3, bucket, result):
    dest = bucket + "-dst"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=dest, Prefix="boto/").get("Contents", [])]
    manifest_key = next(k for k in keys if k.endswith("/manifest.json"))
    result["manifestKey"] = manifest_key
    body = s3.get_object(Bucket=dest, Key=manifest_key)["Body"].read()
    checksum = s3.get_object(Bucket=dest, Key=manifest_key[: -len("json")] + "checksum")["Body"].read()
    result["checksumOk"] = checksum.decode().strip() == hashlib.md5(body).hexdigest()
    manifest = json.loads(body)
    result["fileSchema"] = manifest["fileSchema"]
    rows = []
    for f in manifest["files"]:
        data = s3.get_object(Bucket=dest, Key=f["key"])["Body"].read()
        rows.extend(list(csv.reader(io.StringIO(gzip.decompress(data).decode()))))
    result["rows"] = sorted(rows)


def main(result):
    endpoint, bucket, mode = sys.argv[1], sys.argv[2], sys.argv[3]
    s3 = path_style_client(endpoint)
    if mode == "configure":
        configure(s3, bucket, result)
    else:
        read(s3, bucket, result)


if __name__ == "__main__":
    report(main)
