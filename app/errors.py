"""Errors a user can act on; the API turns each into its status code and message."""

from typing import Any

from pydantic import BaseModel


class ServiceError(Exception):
    """`code` names the error for the pages, which show it in the reader's language
    (app/templates/i18n.yaml, `error_code.<code>`, formatted with `params`); the message stays
    the English text the API answers with."""

    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, message: str, *, code: str | None = None, **params: object) -> None:
        super().__init__(message)
        self.code, self.params = code, params

    def detail(self) -> str | list[dict[str, object]]:
        return str(self)

    def body(self) -> dict[str, object]:
        named = {"code": self.code, "params": self.params} if self.code else {}
        return {"detail": self.detail(), **named}


class Unauthorized(ServiceError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(ServiceError):
    status_code = 403


class NotFound(ServiceError):
    status_code = 404


class Conflict(ServiceError):
    status_code = 409


class Invalid(ServiceError):
    """Answered in FastAPI's validation-error shape, so every 422 reads the same way."""

    status_code = 422

    def __init__(
        self,
        message: str,
        loc: tuple[str | int, ...] = ("body",),
        *,
        code: str | None = None,
        **params: object,
    ) -> None:
        super().__init__(message, code=code, **params)
        self.loc = loc

    def detail(self) -> list[dict[str, object]]:
        return [{"type": "value_error", "loc": list(self.loc), "msg": str(self), "input": None}]


class TooMany(ServiceError):
    status_code = 429


class Unavailable(ServiceError):
    """This server lacks what the request needs (an engine it has not configured): the
    request itself is fine, so not a 422."""

    status_code = 503


class Upstream(ServiceError):
    """The model endpoint failed; what the trainee wrote is stored and can be retried."""

    status_code = 502


class ErrorMessage(BaseModel):
    """The body of every error other than 422; `code` and `params` where the pages
    translate the error."""

    detail: str
    code: str | None = None
    params: dict[str, Any] | None = None


class ValidationError(BaseModel):
    """One thing wrong with a request, worded as FastAPI words it. This class and the next
    are named as FastAPI names its own 422 schemas, so clients built against them keep their
    types (this is not pydantic's ValidationError, the exception)."""

    type: str
    loc: list[str | int]
    msg: str
    input: Any = None
    ctx: dict[str, Any] | None = None


class HTTPValidationError(BaseModel):
    """The body of a 422: what is wrong, each problem with where it is (`loc`); `code` and
    `params` where the pages translate the error."""

    detail: list[ValidationError]
    code: str | None = None
    params: dict[str, Any] | None = None


ERRORS: dict[int, str] = {
    400: "The body could not be read: it must be JSON (or the form the route takes) in "
    "UTF-8, nested at most a few hundred levels deep.",
    401: "Not logged in, or the API token is unknown or revoked (or its account deactivated).",
    403: "Logged in, but not allowed: this needs another role, or a cookie login's "
    "X-CSRF-Token header.",
    404: "Not found, or not one you may see.",
    409: "Not possible in the current state.",
    413: "The request body is too large (`params.limit`, in bytes).",
    415: "The body is not JSON: send it with Content-Type: application/json.",
    422: "The request is not valid: `detail` lists each problem, where it is (`loc`) and what "
    "is wrong (`msg`).",
    429: "Too many of these in the last hour: try again later.",
    502: "The model endpoint failed.",
    503: "This server lacks the engine this needs.",
}
"""What each error status means wherever it is not worded for the route."""

Responses = dict[int | str, dict[str, Any]]


def documented(*errors: int | tuple[int, str]) -> Responses:
    """The error responses a route can give, for its OpenAPI `responses=`: each a status
    (worded as in ERRORS) or a (status, description) pair, all with the shared error body
    (HTTPValidationError for 422, ErrorMessage for the others). A route lists only what it can
    answer; tests/test_openapi_errors.py holds them to it."""
    responses: dict[int, dict[str, Any]] = {}
    for error in errors:
        status = error[0] if isinstance(error, tuple) else error
        if status not in ERRORS:
            raise ValueError(f"{status} is not an error status the API answers with")
        description = error[1] if isinstance(error, tuple) else ERRORS[status]
        if status in responses:
            raise ValueError(f"{status} is listed twice")
        model = HTTPValidationError if status == 422 else ErrorMessage
        responses[status] = {"model": model, "description": description}
    ordered: Responses = {status: responses[status] for status in sorted(responses)}
    return ordered
