"""Drives hangar's SelectObjectContent with boto3, for test/clients/boto3-select.test.ts.

Usage: python3 boto3_select.py ENDPOINT BUCKET (credentials from AWS_* env vars).

botocore decodes the event stream itself (and checks each message's CRCs). Prints one JSON
object on stdout with what each step observed; the TypeScript test asserts it.
"""

import gzip
import sys

from boto3_common import error_code, path_style_client, report

CSV = "name,qty\nbolt,10\nnut,25\nwasher,3\n"
LINES = '{"id": 1, "tags": ["a", "b"]}\n{"id": 2, "tags": []}\n'


def collect(response) -> dict:
    """The records, stats and which event types arrived, in order."""
    out = {"records": "", "events": [], "stats": None}
    for event in response["Payload"]:
        name = next(iter(event))
        out["events"].append(name)
        if name == "Records":
            out["records"] += event["Records"]["Payload"].decode()
        elif name == "Stats":
            out["stats"] = event["Stats"]["Details"]
    return out


def main(result: dict) -> None:
    endpoint, bucket = sys.argv[1], sys.argv[2]
    s3 = path_style_client(endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="parts.csv", Body=CSV.encode())
    s3.put_object(Bucket=bucket, Key="parts.csv.gz", Body=gzip.compress(CSV.encode()))
    s3.put_object(Bucket=bucket, Key="items.json", Body=LINES.encode())

    result["csv"] = collect(s3.select_object_content(
        Bucket=bucket, Key="parts.csv", ExpressionType="SQL",
        Expression="SELECT name FROM S3Object WHERE CAST(qty AS INT) >= 10",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}},
        OutputSerialization={"CSV": {}},
        RequestProgress={"Enabled": True},
    ))
    result["gzipSum"] = collect(s3.select_object_content(
        Bucket=bucket, Key="parts.csv.gz", ExpressionType="SQL",
        Expression="SELECT SUM(CAST(qty AS INT)) AS total FROM S3Object",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}, "CompressionType": "GZIP"},
        OutputSerialization={"JSON": {}},
    ))["records"]
    result["json"] = collect(s3.select_object_content(
        Bucket=bucket, Key="items.json", ExpressionType="SQL",
        Expression="SELECT s.id, s.tags[1] AS second FROM S3Object s",
        InputSerialization={"JSON": {"Type": "LINES"}},
        OutputSerialization={"JSON": {"RecordDelimiter": ";"}},
    ))["records"]
    result["badSql"] = error_code(
        lambda: s3.select_object_content(
            Bucket=bucket, Key="parts.csv", ExpressionType="SQL",
            Expression="SELECT name FROM S3Object WHERE",
            InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}},
        )
    )


if __name__ == "__main__":
    report(main)
