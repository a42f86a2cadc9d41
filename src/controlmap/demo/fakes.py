"""Local fakes, at the botocore level, for the few read APIs moto does not implement.

A fake answers one operation of one service from data held here, through a ``before-send``
handler on the client: the read-only guard and the call counter (``before-call``) still run
first, so the scan goes through exactly the path it takes against AWS, minus the network.
Used by ``controlmap demo`` and by tests; never by a scan of a real account.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders


class _Raw:
    """The minimal urllib3-like body botocore reads a response from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body


def json_response(url: str, payload: dict[str, Any], status: int = 200) -> AWSResponse:
    body = json.dumps(payload, default=str).encode()
    return AWSResponse(url, status, _headers({"Content-Type": "application/json"}), _Raw(body))


def error_response(url: str, code: str, message: str, status: int = 400) -> AWSResponse:
    body = json.dumps({"__type": code, "message": message}).encode()
    headers = _headers({"Content-Type": "application/json", "x-amzn-ErrorType": code})
    return AWSResponse(url, status, headers, _Raw(body))


def _headers(values: dict[str, str]) -> HTTPHeaders:
    headers = HTTPHeaders()
    for key, value in values.items():
        headers[key] = value
    return headers


@dataclass
class FakeAccessAnalyzer:
    """IAM Access Analyzer ``ListAnalyzers`` (moto has no Access Analyzer): analyzers per region."""

    account_id: str
    analyzers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    denied_regions: set[str] = field(default_factory=set)  # answer AccessDeniedException there

    def add(self, region: str, name: str, analyzer_type: str = "ACCOUNT", status: str = "ACTIVE") -> None:
        self.analyzers.setdefault(region, []).append(
            {
                "arn": f"arn:aws:access-analyzer:{region}:{self.account_id}:analyzer/{name}",
                "name": name,
                "type": analyzer_type,
                "status": status,
                "createdAt": datetime(2024, 1, 1, tzinfo=UTC).isoformat(),
            }
        )

    def install(self, client: Any) -> None:
        if client.meta.service_model.service_name != "accessanalyzer":
            return
        region = client.meta.region_name
        client.meta.events.register("before-send.accessanalyzer.ListAnalyzers", self._handler(region))

    def _handler(self, region: str) -> Callable[..., AWSResponse]:
        def respond(request: Any, **_: Any) -> AWSResponse:
            if region in self.denied_regions:
                return error_response(request.url, "AccessDeniedException", "not authorized", 403)
            return json_response(request.url, {"analyzers": self.analyzers.get(region, [])})

        return respond


def demo_access_analyzer(account_id: str, regions: tuple[str, ...] | list[str]) -> FakeAccessAnalyzer:
    """The demo account: an analyzer in the first region only, so IAM-07 passes there and fails elsewhere."""
    fake = FakeAccessAnalyzer(account_id)
    if regions:
        fake.add(regions[0], "demo-account-analyzer")
    return fake


def answer_before_call(
    client: Any, operation: str, responder: Callable[[dict[str, Any]], dict[str, Any] | None]
) -> None:
    """Answer ``operation`` with an already-parsed response, as ``botocore.stub.Stubber`` does.

    ``responder`` gets the serialized request (``url_path``, ``query_string``, ``body``) and
    returns the parsed response (shaped like botocore's output model), an ``{"Error": {...}}``
    mapping with ``"status"`` for a failure, or None to let the request go to the server.
    The read-only guard and the call counter (registered first) still see the call.
    """
    service_id = client.meta.service_model.service_id.hyphenize()

    def respond(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name != operation:
            return None
        parsed = responder(params)
        if parsed is None:
            return None
        status = int(parsed.pop("status", 400 if "Error" in parsed else 200))
        parsed.setdefault(
            "ResponseMetadata", {"HTTPStatusCode": status, "HTTPHeaders": {}, "RetryAttempts": 0}
        )
        return AWSResponse(params.get("url", ""), status, _headers({}), _Raw(b"")), parsed

    # On the service-level event, after the guard and counter: botocore runs handlers of a more
    # specific event name (before-call.<service>.<Operation>) before those, which would skip them.
    client.meta.events.register(f"before-call.{service_id}", respond)


class FakeEventHistory:
    """CloudTrail's event history (``LookupEvents``), which moto lacks: events recorded per
    region, answered newest first, filtered by one lookup attribute and the start time.

    The demo's KMS emulation (``demo/seed_kms.py``) records ``ScheduleKeyDeletion`` here as AWS
    would, so the waiting period of a scheduled key deletion is read the way a live scan reads it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, list[dict[str, Any]]] = {}

    def record(self, region: str, event: dict[str, Any]) -> None:
        with self._lock:
            self._events.setdefault(region, []).append(event)

    def clear(self) -> None:
        with self._lock:
            self._events.clear()

    def install(self, client: Any) -> None:
        if client.meta.service_model.service_name != "cloudtrail":
            return
        region = client.meta.region_name

        def respond(params: dict[str, Any]) -> dict[str, Any]:
            request = json.loads(params.get("body") or b"{}")
            wanted = request.get("LookupAttributes") or []
            start = request.get("StartTime")
            with self._lock:
                events = list(self._events.get(region, []))
            found = []
            for event in sorted(events, key=lambda e: e["EventTime"], reverse=True):
                if start is not None and event["EventTime"].timestamp() < float(start):
                    continue
                if all(_attribute(event, a.get("AttributeKey"), a.get("AttributeValue")) for a in wanted):
                    found.append(event)
            return {"Events": found}

        answer_before_call(client, "LookupEvents", respond)


def _attribute(event: dict[str, Any], key: str | None, value: str | None) -> bool:
    if key == "ResourceName":
        return any(r.get("ResourceName") == value for r in event.get("Resources", []))
    if key == "ResourceType":
        return any(r.get("ResourceType") == value for r in event.get("Resources", []))
    return key is not None and event.get(key) == value


def schedule_key_deletion_event(
    key_arn: str, requested_key_id: str, window_days: int, when: datetime, account_id: str, region: str
) -> dict[str, Any]:
    """A ScheduleKeyDeletion event as LookupEvents returns it (shape of AWS's documented record)."""
    detail = {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "accountId": account_id, "userName": "demo-admin"},
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": "kms.amazonaws.com",
        "eventName": "ScheduleKeyDeletion",
        "awsRegion": region,
        "requestParameters": {"pendingWindowInDays": window_days, "keyId": requested_key_id},
        "responseElements": {
            "keyId": key_arn,
            "keyState": "PendingDeletion",
            "deletionDate": (when + timedelta(days=window_days)).strftime("%b %d, %Y %H:%M:%S %p"),
        },
        "readOnly": False,
        "resources": [{"accountId": account_id, "type": "AWS::KMS::Key", "ARN": key_arn}],
        "eventType": "AwsApiCall",
        "recipientAccountId": account_id,
    }
    return {
        "EventId": str(uuid.uuid4()),
        "EventName": "ScheduleKeyDeletion",
        "ReadOnly": "false",
        "EventTime": when,
        "EventSource": "kms.amazonaws.com",
        "Username": "demo-admin",
        "Resources": [{"ResourceType": "AWS::KMS::Key", "ResourceName": key_arn}],
        "CloudTrailEvent": json.dumps(detail),
    }


EVENT_HISTORY = FakeEventHistory()
