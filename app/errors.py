"""Errors a user can act on; the API turns each into its status code and message."""


class ServiceError(Exception):
    status_code = 400
    headers: dict[str, str] | None = None


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
    status_code = 422


class TooMany(ServiceError):
    status_code = 429


class Upstream(ServiceError):
    """The model endpoint failed; what the trainee wrote is stored and can be retried."""

    status_code = 502
