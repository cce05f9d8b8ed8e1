"""Schemathesis hooks for tools/schemathesis.sh.

The one rule of a pipeline that JSON Schema cannot state — variant ids are unique within it — is kept by dropping
generated bodies that break it. Webhook URLs are pointed at a closed loopback port (allowed in the test config),
and source URLs at the script's loopback source server, so no generated job ever makes the coordinator reach
beyond this machine.
"""
import os
import re

import schemathesis

# proto/openapi.yaml's pattern for webhook_url and source_url, without the empty case.
_URL = re.compile(r"^[hH][tT][tT][pP][sS]?://[A-Za-z0-9._~-]+(:[0-9]{1,5})?(/[!-~]*)?$")


def _pipeline(body):
    return body.get("pipeline") if isinstance(body, dict) else None


@schemathesis.hook
def filter_body(ctx, body):
    pipeline = _pipeline(body)
    if not isinstance(pipeline, list):
        return True
    ids = [variant.get("id") for variant in pipeline if isinstance(variant, dict) and isinstance(variant.get("id"), str)]
    return len(ids) == len(set(ids))


@schemathesis.hook
def before_call(ctx, case, **kwargs):
    # Every phase's request passes here (map_body is not applied to stateful runs). Only valid URLs are replaced:
    # an invalid one (a negative case) must reach the server as it was generated.
    body = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("webhook_url"), str) and _URL.match(body["webhook_url"]):
        body["webhook_url"] = "http://127.0.0.1:9/hook"
    if isinstance(body.get("source_url"), str) and _URL.match(body["source_url"]):
        body["source_url"] = os.environ["SCHEMATHESIS_SOURCE_URL"]
