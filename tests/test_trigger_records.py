"""The event shapes of the services that invoke Lambda, key for key against AWS's samples:
S3 (reference 5.5, SAM's S3Delete.json), SNS (reference 5.6), API Gateway payload 1.0 and
2.0 (API Gateway developer guide), function URLs (Lambda developer guide, a recorded
event)."""

# ruff: noqa: E501 (AWS's samples are kept verbatim, long ARNs and all)

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

from hypothesis import given
from hypothesis import strategies as st

from invokemodels.core._records import (
    clf_timestamp,
    function_url_event,
    http_api_event,
    http_request_context,
    rest_api_event,
    rest_request_context,
    s3_event,
    s3_object_key,
    s3_record,
    sns_event,
    sns_record,
)


def epoch_of(text: str) -> float:
    """``2019-09-03T19:37:27.192Z`` as Unix time."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


S3_PUT = json.loads("""
{
  "Records": [
    {
      "eventVersion": "2.1",
      "eventSource": "aws:s3",
      "awsRegion": "us-east-2",
      "eventTime": "2019-09-03T19:37:27.192Z",
      "eventName": "ObjectCreated:Put",
      "userIdentity": { "principalId": "AWS:AIDAINPONIXQXHT3IKHL2" },
      "requestParameters": { "sourceIPAddress": "205.255.255.255" },
      "responseElements": {
        "x-amz-request-id": "D82B88E5F771F645",
        "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo="
      },
      "s3": {
        "s3SchemaVersion": "1.0",
        "configurationId": "828aa6fc-f7b5-4305-8584-487c791949c1",
        "bucket": {
          "name": "lambda-artifacts-deafc19498e3f2df",
          "ownerIdentity": { "principalId": "A3I5XTEXAMAI3E" },
          "arn": "arn:aws:s3:::lambda-artifacts-deafc19498e3f2df"
        },
        "object": {
          "key": "b21b84d653bb07b05b1e6b33684dc11b",
          "size": 1305107,
          "eTag": "b21b84d653bb07b05b1e6b33684dc11b",
          "sequencer": "0C0F6F405D6ED209E1"
        }
      }
    }
  ]
}
""")


def test_s3_put_record_is_the_reference_sample_key_for_key() -> None:
    # The reference's sample names the bucket DOC-EXAMPLE-BUCKET but gives another
    # bucket's ARN (a doc edit); a real record's name and ARN agree.
    record = s3_record(
        event_version="2.1",
        region="us-east-2",
        epoch=epoch_of("2019-09-03T19:37:27.192Z"),
        event_name="ObjectCreated:Put",
        principal_id="AWS:AIDAINPONIXQXHT3IKHL2",
        source_ip="205.255.255.255",
        request_id="D82B88E5F771F645",
        host_id="vlR7PnpV2Ce81l0PRw6jlUpck7Jo5ZsQjryTjKlc5aLWGVHPZLj5NeC6qMa0emYBDXOo6QBU0Wo=",
        configuration_id="828aa6fc-f7b5-4305-8584-487c791949c1",
        bucket="lambda-artifacts-deafc19498e3f2df",
        owner_id="A3I5XTEXAMAI3E",
        key="b21b84d653bb07b05b1e6b33684dc11b",
        size=1305107,
        etag="b21b84d653bb07b05b1e6b33684dc11b",
        version_id=None,
        sequencer="0C0F6F405D6ED209E1",
    )
    assert s3_event([record]) == S3_PUT
    assert json.dumps(s3_event([record])) == json.dumps(S3_PUT)  # key order too


def test_s3_delete_record_has_no_size_or_etag_as_in_sams_sample() -> None:
    record = s3_record(
        event_version="2.0",
        region="us-east-1",
        epoch=0.0,
        event_name="ObjectRemoved:Delete",
        principal_id="EXAMPLE",
        source_ip="127.0.0.1",
        request_id="EXAMPLE123456789",
        host_id="EXAMPLE123/5678abcdefghijklambdaisawesome/mnopqrstuvwxyzABCDEFGH",
        configuration_id="testConfigRule",
        bucket="example-bucket",
        owner_id="EXAMPLE",
        key="test/key",
        size=None,
        etag=None,
        version_id=None,
        sequencer="0A1B2C3D4E5F678901",
    )
    assert record["eventTime"] == "1970-01-01T00:00:00.000Z"
    assert record["s3"]["object"] == {"key": "test/key", "sequencer": "0A1B2C3D4E5F678901"}
    assert list(record) == [
        "eventVersion", "eventSource", "awsRegion", "eventTime", "eventName",
        "userIdentity", "requestParameters", "responseElements", "s3",
    ]  # fmt: skip


def test_a_versioned_object_carries_its_version_id_before_the_sequencer() -> None:
    record = s3_record(
        event_version="2.1", region="us-east-1", epoch=0.0, event_name="ObjectCreated:Put",
        principal_id="p", source_ip="1.2.3.4", request_id="r", host_id="h",
        configuration_id="c", bucket="b", owner_id="o", key="k", size=3, etag="e",
        version_id="v1", sequencer="s",
    )  # fmt: skip
    assert list(record["s3"]["object"].items()) == [
        ("key", "k"), ("size", 3), ("eTag", "e"), ("versionId", "v1"), ("sequencer", "s"),
    ]  # fmt: skip


def test_s3_keys_are_form_encoded_with_slashes_kept() -> None:
    # "red flower.jpg" -> "red+flower.jpg" (S3 user guide); "+" -> "%2B" and "=" -> "%3D"
    # (recorded in aws-sdk-net#640 and aws-sam-cli#379); "/" stays (minio#11665).
    assert s3_object_key("red flower.jpg") == "red+flower.jpg"
    assert s3_object_key("this im + age blah.txt") == "this+im+%2B+age+blah.txt"
    assert s3_object_key("something/dt=2018-05-04/_SUCCESS") == "something/dt%3D2018-05-04/_SUCCESS"
    assert s3_object_key("café/ü.txt") == "caf%C3%A9/%C3%BC.txt"


@given(st.text(min_size=1, max_size=40))
def test_every_s3_key_decodes_back_to_itself(key: str) -> None:
    encoded = s3_object_key(key)
    assert " " not in encoded
    assert urllib.parse.unquote_plus(encoded, errors="surrogatepass") == key


SNS = json.loads("""
{
  "Records": [
    {
      "EventVersion": "1.0",
      "EventSubscriptionArn": "arn:aws:sns:us-east-2:123456789012:sns-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
      "EventSource": "aws:sns",
      "Sns": {
        "SignatureVersion": "1",
        "Timestamp": "2019-01-02T12:45:07.000Z",
        "Signature": "tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
        "SigningCertUrl": "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
        "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        "Message": "Hello from SNS!",
        "MessageAttributes": {
          "Test": { "Type": "String", "Value": "TestString" },
          "TestBinary": { "Type": "Binary", "Value": "VGVzdEJpbmFyeQ==" }
        },
        "Type": "Notification",
        "UnsubscribeUrl": "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:123456789012:test-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
        "TopicArn":"arn:aws:sns:us-east-2:123456789012:sns-lambda",
        "Subject": "TestInvoke"
      }
    }
  ]
}
""")


def test_sns_record_is_the_reference_sample_key_for_key() -> None:
    # Two edits to the reference's sample, both of the documentation's making: the
    # binary attribute's value is base64 of the bytes (the sample shows the raw text),
    # and the unsubscribe URL's "&amp;" is HTML escaping of "&".
    record = sns_record(
        subscription_arn="arn:aws:sns:us-east-2:123456789012:sns-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
        topic_arn="arn:aws:sns:us-east-2:123456789012:sns-lambda",
        message_id="95df01b4-ee98-5cb9-9903-4c221d41eb5e",
        message="Hello from SNS!",
        subject="TestInvoke",
        message_attributes={
            "Test": {"DataType": "String", "StringValue": "TestString"},
            "TestBinary": {"DataType": "Binary", "BinaryValue": b"TestBinary"},
        },
        epoch=epoch_of("2019-01-02T12:45:07.000Z"),
        signature="tcc6faL2yUC6dgZdmrwh1Y4cGa/ebXEkAi6RibDsvpi+tE/1+82j...65r==",
        signing_cert_url="https://sns.us-east-2.amazonaws.com/SimpleNotificationService-ac565b8b1a6c5d002d285f9598aa1d9b.pem",
        unsubscribe_url="https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-2:123456789012:test-lambda:21be56ed-a058-49f5-8c98-aedd2564c486",
    )
    assert sns_event([record]) == SNS
    assert json.dumps(sns_event([record])) == json.dumps(SNS)


def test_an_sns_message_without_a_subject_has_a_null_subject() -> None:
    record = sns_record(
        subscription_arn="s", topic_arn="t", message_id="m", message="x", subject=None,
        message_attributes={}, epoch=0.0, signature="sig", signing_cert_url="c",
        unsubscribe_url="u",
    )  # fmt: skip
    assert record["Sns"]["Subject"] is None
    assert record["Sns"]["MessageAttributes"] == {}


def test_clf_timestamps_are_the_samples() -> None:
    assert clf_timestamp(1583348638.390) == "04/Mar/2020:19:03:58 +0000"
    assert clf_timestamp(1583349317.135) == "04/Mar/2020:19:15:17 +0000"
    assert clf_timestamp(1428582896.0) == "09/Apr/2015:12:34:56 +0000"


# API Gateway developer guide, "Payload format version", the 1.0 sample.
REST_1_0 = json.loads("""
{
  "version": "1.0",
  "resource": "/my/path",
  "path": "/my/path",
  "httpMethod": "GET",
  "headers": {"Header1": "value1", "Header2": "value2"},
  "multiValueHeaders": {"Header1": ["value1"], "Header2": ["value1", "value2"]},
  "queryStringParameters": {"parameter1": "value1", "parameter2": "value"},
  "multiValueQueryStringParameters": {"parameter1": ["value1", "value2"], "parameter2": ["value"]},
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "id",
    "authorizer": {"claims": null, "scopes": null},
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "id",
    "extendedRequestId": "request-id",
    "httpMethod": "GET",
    "identity": {
      "accessKey": null, "accountId": null, "caller": null,
      "cognitoAuthenticationProvider": null, "cognitoAuthenticationType": null,
      "cognitoIdentityId": null, "cognitoIdentityPoolId": null, "principalOrgId": null,
      "sourceIp": "IP", "user": null, "userAgent": "user-agent", "userArn": null
    },
    "path": "/my/path",
    "protocol": "HTTP/1.1",
    "requestId": "id=",
    "requestTime": "04/Mar/2020:19:15:17 +0000",
    "requestTimeEpoch": 1583349317135,
    "resourceId": null,
    "resourcePath": "/my/path",
    "stage": "$default"
  },
  "pathParameters": null,
  "stageVariables": null,
  "body": "Hello from Lambda!",
  "isBase64Encoded": false
}
""")


def test_payload_1_0_event_is_the_guides_sample_key_for_key() -> None:
    # The guide's sample has a mutual-TLS clientCert in identity; without mutual TLS
    # there is none, and "resourceId" is a string for a REST API (null for an HTTP API).
    context = rest_request_context(
        account_id="123456789012",
        api_id="id",
        domain_name="id.execute-api.us-east-1.amazonaws.com",
        domain_prefix="id",
        extended_request_id="request-id",
        http_method="GET",
        source_ip="IP",
        user_agent="user-agent",
        path="/my/path",
        protocol="HTTP/1.1",
        request_id="id=",
        epoch=1583349317.135,
        resource_id=None,
        resource_path="/my/path",
        stage="$default",
        authorizer={"claims": None, "scopes": None},
    )
    event = rest_api_event(
        version="1.0",
        resource="/my/path",
        path="/my/path",
        http_method="GET",
        headers={"Header1": "value1", "Header2": "value2"},
        multi_value_headers={"Header1": ["value1"], "Header2": ["value1", "value2"]},
        query_string_parameters={"parameter1": "value1", "parameter2": "value"},
        multi_value_query_string_parameters={
            "parameter1": ["value1", "value2"],
            "parameter2": ["value"],
        },
        path_parameters=None,
        stage_variables=None,
        request_context=context,
        body="Hello from Lambda!",
        is_base64_encoded=False,
    )
    assert event == REST_1_0


def test_a_rest_api_event_has_no_version_key_and_no_authorizer_without_one() -> None:
    context = rest_request_context(
        account_id="123456789012", api_id="a", domain_name="d", domain_prefix="a",
        extended_request_id="e", http_method="POST", source_ip="1.2.3.4", user_agent=None,
        path="/prod/orders", protocol="HTTP/1.1", request_id="r", epoch=0.0,
        resource_id="abc123", resource_path="/orders", stage="prod", authorizer=None,
    )  # fmt: skip
    event = rest_api_event(
        resource="/orders", path="/orders", http_method="POST", headers=None,
        multi_value_headers=None, query_string_parameters=None,
        multi_value_query_string_parameters=None, path_parameters=None,
        stage_variables=None, request_context=context, body=None, is_base64_encoded=False,
    )  # fmt: skip
    assert "version" not in event
    assert "authorizer" not in event["requestContext"]
    assert event["requestContext"]["requestTime"] == "01/Jan/1970:00:00:00 +0000"
    assert event["requestContext"]["requestTimeEpoch"] == 0
    assert event["body"] is None
    assert event["headers"] is None


# API Gateway developer guide, "Payload format version", the 2.0 sample.
HTTP_2_0 = json.loads("""
{
  "version": "2.0",
  "routeKey": "$default",
  "rawPath": "/my/path",
  "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
  "cookies": ["cookie1", "cookie2"],
  "headers": {"Header1": "value1", "Header2": "value1,value2"},
  "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
  "requestContext": {
    "accountId": "123456789012",
    "apiId": "api-id",
    "authentication": {
      "clientCert": {
        "clientCertPem": "CERT_CONTENT",
        "subjectDN": "www.example.com",
        "issuerDN": "Example issuer",
        "serialNumber": "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1",
        "validity": {"notBefore": "May 28 12:30:02 2019 GMT", "notAfter": "Aug  5 09:36:04 2021 GMT"}
      }
    },
    "authorizer": {
      "jwt": {"claims": {"claim1": "value1", "claim2": "value2"}, "scopes": ["scope1", "scope2"]},
      "lambda": {"exampleKey1": "exampleValue1", "exampleKey2": "exampleValue2"}
    },
    "domainName": "id.execute-api.us-east-1.amazonaws.com",
    "domainPrefix": "id",
    "http": {
      "method": "POST", "path": "/my/path", "protocol": "HTTP/1.1", "sourceIp": "IP",
      "userAgent": "agent"
    },
    "requestId": "id",
    "routeKey": "$default",
    "stage": "$default",
    "time": "12/Mar/2020:19:03:58 +0000",
    "timeEpoch": 1583348638390
  },
  "body": "Hello from Lambda",
  "pathParameters": {"parameter1": "value1"},
  "isBase64Encoded": false,
  "stageVariables": {"stageVariable1": "value1", "stageVariable2": "value2"}
}
""")


def test_payload_2_0_event_is_the_guides_sample_key_for_key() -> None:
    # The guide's timeEpoch (1583348638390) is 04/Mar/2020, its "time" 12/Mar/2020: the
    # sample was edited by hand; the time is checked from the epoch separately.
    context = http_request_context(
        account_id="123456789012",
        api_id="api-id",
        domain_name="id.execute-api.us-east-1.amazonaws.com",
        domain_prefix="id",
        method="POST",
        path="/my/path",
        protocol="HTTP/1.1",
        source_ip="IP",
        user_agent="agent",
        request_id="id",
        route_key="$default",
        stage="$default",
        epoch=1583348638.390,
        authentication=HTTP_2_0["requestContext"]["authentication"],
        authorizer=HTTP_2_0["requestContext"]["authorizer"],
    )
    event = http_api_event(
        route_key="$default",
        raw_path="/my/path",
        raw_query_string="parameter1=value1&parameter1=value2&parameter2=value",
        cookies=["cookie1", "cookie2"],
        headers={"Header1": "value1", "Header2": "value1,value2"},
        query_string_parameters={"parameter1": "value1,value2", "parameter2": "value"},
        request_context=context,
        body="Hello from Lambda",
        path_parameters={"parameter1": "value1"},
        is_base64_encoded=False,
        stage_variables={"stageVariable1": "value1", "stageVariable2": "value2"},
    )
    assert event["requestContext"].pop("time") == "04/Mar/2020:19:03:58 +0000"
    expected = json.loads(json.dumps(HTTP_2_0))
    del expected["requestContext"]["time"]
    assert event == expected
    assert list(event) == list(expected)
    assert list(event["requestContext"]) == list(expected["requestContext"])


def test_payload_2_0_leaves_out_what_the_request_lacks() -> None:
    event = http_api_event(
        route_key="GET /", raw_path="/", raw_query_string="", cookies=None, headers={},
        query_string_parameters=None, request_context={}, body=None, path_parameters=None,
        is_base64_encoded=False, stage_variables=None,
    )  # fmt: skip
    assert event == {
        "version": "2.0",
        "routeKey": "GET /",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {},
        "requestContext": {},
        "isBase64Encoded": False,
    }


# A recorded function URL event (auth type NONE), Powertools' lambdaFunctionUrlEvent.json,
# its headers shortened.
FUNCTION_URL = json.loads("""
{
   "version":"2.0",
   "routeKey":"$default",
   "rawPath":"/",
   "rawQueryString":"",
   "headers":{
      "x-forwarded-proto":"https",
      "host":"<url-id>.lambda-url.us-east-1.on.aws",
      "user-agent":"Mozilla/5.0"
   },
   "requestContext":{
      "accountId":"anonymous",
      "apiId":"<url-id>",
      "domainName":"<url-id>.lambda-url.us-east-1.on.aws",
      "domainPrefix":"<url-id>",
      "http":{
         "method":"GET",
         "path":"/",
         "protocol":"HTTP/1.1",
         "sourceIp":"123.123.123.123",
         "userAgent":"agent"
      },
      "requestId":"id",
      "routeKey":"$default",
      "stage":"$default",
      "time":"05/Aug/2022:08:14:39 +0000",
      "timeEpoch":1659687279885
   },
   "isBase64Encoded":false
}
""")


def test_function_url_event_is_the_recorded_event_key_for_key() -> None:
    event = function_url_event(
        url_id="<url-id>",
        region="us-east-1",
        account_id="anonymous",
        raw_path="/",
        raw_query_string="",
        cookies=None,
        headers=FUNCTION_URL["headers"],
        query_string_parameters=None,
        method="GET",
        protocol="HTTP/1.1",
        source_ip="123.123.123.123",
        user_agent="agent",
        request_id="id",
        epoch=1659687279.885,
        body=None,
        is_base64_encoded=False,
        authorizer=None,
    )
    assert event == FUNCTION_URL
    assert json.dumps(event) == json.dumps(FUNCTION_URL)
