"""What the boto3 stories under testdata/clients share: the endpoint and key
from the environment, the client settings, and the helpers that assert, count
the steps and report PASS or FAIL.

A story script imports this (its own folder is first on sys.path when run as
`python3 path/to/script.py`), defines story() and ends with
`sys.exit(main(story, "boto3 … story"))`.
"""

import os
import sys

import boto3
import botocore
from botocore.config import Config
from botocore.exceptions import ClientError

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
KEY_ID = os.environ["AWS_ACCESS_KEY_ID"]
SECRET = os.environ["AWS_SECRET_ACCESS_KEY"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

# One attempt per call: a retry would hide a server that answers 5xx.
CONFIG = Config(retries={"mode": "standard", "total_max_attempts": 1})
# For the calls botocore would refuse itself: the server must be what answers.
NO_VALIDATION = CONFIG.merge(Config(parameter_validation=False))

steps = 0


class StoryFailure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise StoryFailure(msg)


def step(msg):
    global steps
    steps += 1
    print(f"ok {steps:2d} {msg}", flush=True)


def client(service, key=KEY_ID, secret=SECRET, config=CONFIG):
    # A session of its own: no profile, no shared file, only these keys.
    session = boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, region_name=REGION)
    return session.client(service, endpoint_url=ENDPOINT, config=config)


def expect_error(fn, code, status=None, what=""):
    """Calls fn, which must raise ClientError with code (and HTTP status,
    unless status is None); returns the ClientError."""
    try:
        out = fn()
    except ClientError as e:
        got = e.response.get("Error", {}).get("Code")
        got_status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        check(got == code, f"{what}: want error {code}, got {got} (HTTP {got_status}): {e}")
        if status is not None:
            check(got_status == status, f"{what}: want HTTP {status} for {code}, got {got_status}")
        return e
    out = dict(out or {})
    out.pop("ResponseMetadata", None)
    raise StoryFailure(f"{what}: want error {code}, the call succeeded: {out}")


def paginate(c, op, key, **kw):
    items, pages = [], 0
    for page in c.get_paginator(op).paginate(**kw):
        pages += 1
        items.extend(page[key])
    return items, pages


def main(story, name):
    """Runs story() and reports: `PASS <name>: <n> steps` and 0, or FAIL on
    stderr and 1 at the first failed check or unexpected AWS error."""
    print(f"boto3 {boto3.__version__}, botocore {botocore.__version__}, endpoint {ENDPOINT}", flush=True)
    try:
        story()
    except StoryFailure as e:
        print(f"FAIL after {steps} steps: {e}", file=sys.stderr, flush=True)
        return 1
    except ClientError as e:
        print(f"FAIL after {steps} steps: unexpected AWS error {e.response.get('Error')} "
              f"(HTTP {e.response.get('ResponseMetadata', {}).get('HTTPStatusCode')}): {e}", file=sys.stderr, flush=True)
        return 1
    print(f"PASS {name}: {steps} steps", flush=True)
    return 0
