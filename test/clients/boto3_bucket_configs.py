"""Round-trips issue 18's simple bucket configurations through hangar with boto3, for
test/clients/boto3-bucket-configs.test.ts.

Usage: python3 boto3_bucket_configs.py ENDPOINT BUCKET (credentials from AWS_* env vars).
Prints one JSON object on stdout with what each step observed; the TypeScript test asserts it.
"""

import sys

from boto3_common import error_code, path_style_client, report


ANALYTICS = {
    "Id": "boto-analytics",
    "Filter": {"And": {"Prefix": "logs/", "Tags": [{"Key": "team", "Value": "data"}]}},
    "StorageClassAnalysis": {
        "DataExport": {
            "OutputSchemaVersion": "V_1",
            "Destination": {
                "S3BucketDestination": {
                    "Format": "CSV",
                    "BucketAccountId": "123456789012",
                    "Bucket": "arn:aws:s3:::boto-reports",
                    "Prefix": "analysis/",
                }
            },
        }
    },
}

METRICS = {"Id": "boto-metrics", "Filter": {"Tag": {"Key": "tier", "Value": "hot"}}}


def main(result: dict) -> None:
    endpoint, bucket = sys.argv[1], sys.argv[2]
    s3 = path_style_client(endpoint)
    s3.create_bucket(Bucket=bucket)

    result["accelerateBefore"] = s3.get_bucket_accelerate_configuration(Bucket=bucket).get("Status")
    s3.put_bucket_accelerate_configuration(
        Bucket=bucket, AccelerateConfiguration={"Status": "Enabled"})
    result["accelerate"] = s3.get_bucket_accelerate_configuration(Bucket=bucket).get("Status")

    result["payerBefore"] = s3.get_bucket_request_payment(Bucket=bucket)["Payer"]
    s3.put_bucket_request_payment(
        Bucket=bucket, RequestPaymentConfiguration={"Payer": "Requester"})
    result["payer"] = s3.get_bucket_request_payment(Bucket=bucket)["Payer"]

    s3.put_bucket_analytics_configuration(
        Bucket=bucket, Id=ANALYTICS["Id"], AnalyticsConfiguration=ANALYTICS)
    got = s3.get_bucket_analytics_configuration(Bucket=bucket, Id=ANALYTICS["Id"])
    result["analyticsEqual"] = got["AnalyticsConfiguration"] == ANALYTICS
    listed = s3.list_bucket_analytics_configurations(Bucket=bucket)
    result["analyticsListed"] = [c["Id"] for c in listed.get("AnalyticsConfigurationList", [])]
    result["analyticsTruncated"] = listed["IsTruncated"]
    s3.delete_bucket_analytics_configuration(Bucket=bucket, Id=ANALYTICS["Id"])
    result["analyticsGone"] = error_code(
        lambda: s3.get_bucket_analytics_configuration(Bucket=bucket, Id=ANALYTICS["Id"]))

    s3.put_bucket_metrics_configuration(Bucket=bucket, Id=METRICS["Id"], MetricsConfiguration=METRICS)
    got = s3.get_bucket_metrics_configuration(Bucket=bucket, Id=METRICS["Id"])
    result["metricsEqual"] = got["MetricsConfiguration"] == METRICS
    listed = s3.list_bucket_metrics_configurations(Bucket=bucket)
    result["metricsListed"] = [c["Id"] for c in listed.get("MetricsConfigurationList", [])]
    s3.delete_bucket_metrics_configuration(Bucket=bucket, Id=METRICS["Id"])
    result["metricsGone"] = error_code(
        lambda: s3.delete_bucket_metrics_configuration(Bucket=bucket, Id=METRICS["Id"]))


if __name__ == "__main__":
    report(main)
