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


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorMessage, "description": description}
    for status, description in {
        401: "Not logged in, or the token is unknown or revoked.",
        403: "Logged in, but this needs another role (or the CSRF header).",
        404: "No such persona or session, or not one you may see.",
        409: "The session does not allow this now (ended, or a reply is pending).",
        413: "The request body is too large.",
        415: "The body is not JSON: send it with Content-Type: application/json.",
        429: "Too many sessions this hour, or too many failed logins.",
        502: "The model endpoint failed; what you wrote is stored and can be retried.",
        503: "The session's engine is not configured on this server.",
    }.items()
}
