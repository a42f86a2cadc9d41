"""API Gateway REST APIs (v1) and HTTP/WebSocket APIs (v2), with their stages.

Methods and routes are kept inside their API: the checks judge an API as a whole and name the
methods that fail ("GET /pets has authorization NONE"), instead of one finding per method. A
template's AWS::ApiGateway::Method / AWS::ApiGatewayV2::Route resources are grouped the same way.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from controlmap.resources.base import Resource
from controlmap.resources.policy import PolicyDocument


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApiMethod(_Facts):
    """A REST method (``GET /pets``) or a v2 route (``GET /pets``, ``$connect``)."""

    path: str  # resource path, or the v2 route key
    http_method: str | None = None  # None for v2 routes (in the route key) and WebSocket routes
    # REST: NONE, AWS_IAM, CUSTOM, COGNITO_USER_POOLS; v2: NONE, AWS_IAM, CUSTOM, JWT.
    authorization_type: str = "NONE"
    authorizer_id: str | None = None
    authorization_scopes: list[str] = []
    api_key_required: bool = False
    # Parts a source could not know ("authorization", "scopes", "api key"; an IaC value with no
    # default), each with what it depends on. The known parts stay filled, so a sibling method
    # known to be open still fails; a method with unknown parts can only make a verdict UNKNOWN.
    unresolved: dict[str, str] = {}

    @property
    def label(self) -> str:
        return f"{self.http_method} {self.path}" if self.http_method else self.path


class ThrottleLimits(_Facts):
    rate_limit: float | None = None
    burst_limit: int | None = None

    @property
    def set(self) -> bool:
        return self.rate_limit is not None or self.burst_limit is not None


class ApiStageBase(Resource):
    api_id: str
    stage_name: str
    # Stage-wide throttling (REST: method settings "*/*"; v2: DefaultRouteSettings).
    throttle: ThrottleLimits | None = None
    # Execution logging: OFF, ERROR or INFO (REST "*/*" logging level; v2 DefaultRouteSettings).
    execution_logging_level: str | None = None
    access_log_destination: str | None = None  # "" when access logging is off


class ApiGatewayRestApi(Resource):
    resource_type: ClassVar[str] = "AWS::ApiGateway::RestApi"

    api_id: str
    endpoint_types: list[str] = []  # EDGE, REGIONAL, PRIVATE
    methods: list[ApiMethod] | None = None
    resource_policy: PolicyDocument | None = None  # empty document when none
    disable_execute_api_endpoint: bool | None = None


class ApiGatewayStage(ApiStageBase):
    """A REST API stage."""

    resource_type: ClassVar[str] = "AWS::ApiGateway::Stage"

    web_acl_arn: str | None = None  # "" when no web ACL is associated
    # Usage plans covering this stage with a throttle (names); [] when none.
    usage_plan_throttles: list[str] | None = None


class ApiGatewayV2Api(Resource):
    resource_type: ClassVar[str] = "AWS::ApiGatewayV2::Api"

    api_id: str
    protocol_type: str  # HTTP or WEBSOCKET
    routes: list[ApiMethod] | None = None
    disable_execute_api_endpoint: bool | None = None


class ApiGatewayV2Stage(ApiStageBase):
    resource_type: ClassVar[str] = "AWS::ApiGatewayV2::Stage"

    protocol_type: str | None = None  # of its API
