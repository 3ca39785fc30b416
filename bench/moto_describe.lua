-- wrk script for the moto baseline: DynamoDB DescribeTable, a read call comparable to
-- GetDataExportOrderDetail (moto does not verify signatures; the header only names the region).
wrk.method = "POST"
wrk.body = '{"TableName":"bench"}'
wrk.headers["X-Amz-Target"] = "DynamoDB_20120810.DescribeTable"
wrk.headers["Content-Type"] = "application/x-amz-json-1.0"
wrk.headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0"
