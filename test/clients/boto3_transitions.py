"""Drives lifecycle transitions and intelligent tiering configurations with boto3, for
test/clients/boto3-transitions.test.ts.

Usage: python3 boto3_transitions.py ENDPOINT BUCKET  (credentials from AWS_* env vars)

Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
"""

import sys

from boto3_common import error_code, path_style_client, report

RULES = [
    {
        "ID": "waterfall",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Transitions": [
            {"Days": 30, "StorageClass": "STANDARD_IA"},
            {"Days": 90, "StorageClass": "GLACIER"},
        ],
        "NoncurrentVersionTransitions": [
            {"NoncurrentDays": 7, "StorageClass": "GLACIER_IR", "NewerNoncurrentVersions": 3}
        ],
        "Expiration": {"Days": 365},
    }
]

TIERING = {
    "Id": "boto-tiering",
    "Filter": {"Prefix": "docs/"},
    "Status": "Enabled",
    "Tierings": [{"AccessTier": "ARCHIVE_ACCESS", "Days": 120}],
}


def main(result: dict) -> None:
    endpoint, bucket = sys.argv[1], sys.argv[2]
    s3 = path_style_client(endpoint)
    s3.create_bucket(Bucket=bucket)
    put = s3.put_bucket_lifecycle_configuration(
        Bucket=bucket,
        LifecycleConfiguration={"Rules": RULES},
        TransitionDefaultMinimumObjectSize="varies_by_storage_class",
    )
    result["putMinimumSize"] = put.get("TransitionDefaultMinimumObjectSize")
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    result["minimumSize"] = got.get("TransitionDefaultMinimumObjectSize")
    rule = got["Rules"][0]
    result["transitions"] = rule["Transitions"]
    result["noncurrentTransitions"] = rule["NoncurrentVersionTransitions"]
    result["tooSoon"] = error_code(
        lambda: s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "soon",
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "Transitions": [{"Days": 5, "StorageClass": "STANDARD_IA"}],
                    }
                ]
            },
        )
    )
    s3.put_bucket_intelligent_tiering_configuration(
        Bucket=bucket, Id=TIERING["Id"], IntelligentTieringConfiguration=TIERING
    )
    tiering = s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id=TIERING["Id"])
    result["tieringEqual"] = tiering["IntelligentTieringConfiguration"] == TIERING
    listed = s3.list_bucket_intelligent_tiering_configurations(Bucket=bucket)
    result["tieringListed"] = [c["Id"] for c in listed["IntelligentTieringConfigurationList"]]
    s3.delete_bucket_intelligent_tiering_configuration(Bucket=bucket, Id=TIERING["Id"])
    result["tieringGone"] = error_code(
        lambda: s3.get_bucket_intelligent_tiering_configuration(Bucket=bucket, Id=TIERING["Id"])
    )


if __name__ == "__main__":
    report(main)
