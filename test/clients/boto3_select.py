"""Drives hangar's SelectObjectContent with boto3, for test/clients/boto3-select.test.ts.

Usage: python3 boto3_select.py ENDPOINT BUCKET PARQUET_FILE (credentials from AWS_* env vars).
PARQUET_FILE: a Parquet file the TypeScript test wrote with hyparquet-writer (columns id INT32,
name STRING; 10 rows, id 0..9, name "n<id>").

botocore decodes the event stream itself (and checks each message's CRCs). Prints one JSON
object on stdout with what each step observed; the TypeScript test asserts it.
"""

import bz2
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
    endpoint, bucket, parquet_file = sys.argv[1], sys.argv[2], sys.argv[3]
    s3 = path_style_client(endpoint)
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="parts.csv", Body=CSV.encode())
    s3.put_object(Bucket=bucket, Key="parts.csv.gz", Body=gzip.compress(CSV.encode()))
    s3.put_object(Bucket=bucket, Key="items.json", Body=LINES.encode())
    s3.put_object(Bucket=bucket, Key="parts.csv.bz2", Body=bz2.compress(CSV.encode()))
    s3.put_object(Bucket=bucket, Key="items.json.bz2", Body=bz2.compress(LINES.encode()))
    s3.put_object(Bucket=bucket, Key="broken.bz2", Body=bz2.compress(CSV.encode() * 50)[:-20])
    with open(parquet_file, "rb") as handle:
        s3.put_object(Bucket=bucket, Key="rows.parquet", Body=handle.read())

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
    result["bzip2Csv"] = collect(s3.select_object_content(
        Bucket=bucket, Key="parts.csv.bz2", ExpressionType="SQL",
        Expression="SELECT s.name FROM S3Object s WHERE CAST(s.qty AS INT) < 20",
        InputSerialization={"CSV": {"FileHeaderInfo": "USE"}, "CompressionType": "BZIP2"},
        OutputSerialization={"CSV": {}},
    ))["records"]
    result["bzip2Json"] = collect(s3.select_object_content(
        Bucket=bucket, Key="items.json.bz2", ExpressionType="SQL",
        Expression="SELECT COUNT(*) AS n FROM S3Object s WHERE s.id > 1",
        InputSerialization={"JSON": {"Type": "LINES"}, "CompressionType": "BZIP2"},
        OutputSerialization={"JSON": {}},
    ))["records"]
    result["bzip2Broken"] = error_code(
        lambda: s3.select_object_content(
            Bucket=bucket, Key="broken.bz2", ExpressionType="SQL",
            Expression="SELECT COUNT(*) FROM S3Object",
            InputSerialization={"CSV": {}, "CompressionType": "BZIP2"},
            OutputSerialization={"CSV": {}},
        )
    )
    result["parquet"] = collect(s3.select_object_content(
        Bucket=bucket, Key="rows.parquet", ExpressionType="SQL",
        Expression="SELECT s.name FROM S3Object s WHERE s.id >= 7",
        InputSerialization={"Parquet": {}},
        OutputSerialization={"JSON": {}},
    ))["records"]
    result["parquetRange"] = error_code(
        lambda: s3.select_object_content(
            Bucket=bucket, Key="rows.parquet", ExpressionType="SQL",
            Expression="SELECT * FROM S3Object",
            InputSerialization={"Parquet": {}}, OutputSerialization={"CSV": {}},
            ScanRange={"Start": 0, "End": 100},
        )
    )
    result["badSql"] = error_code(
        lambda: s3.select_object_content(
            Bucket=bucket, Key="parts.csv", ExpressionType="SQL",
            Expression="SELECT name FROM S3Object WHERE",
            InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}},
        )
    )


if __name__ == "__main__":
    report(main)
