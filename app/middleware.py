"""Small ASGI middlewares: a request body limit, and security headers on every answer."""

from collections.abc import Callable, Mapping

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The pages' scripts are files under /static, so no inline script is needed.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# FastAPI's /docs page loads Swagger UI with an inline script from a CDN.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "frame-ancestors 'none'"
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = DOCS_CSP if scope["path"] in ("/docs", "/redoc") else PAGE_CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", csp.encode()),
                    (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Refuse request bodies over the limit with 413, whether or not Content-Length is sent.

    `uploads` gives a path its own, larger limit: a WhatsApp export or a class's sessions
    to import are far larger than any message. `refuse` builds the answer (the app gives
    browsers a page in their language); by default it is JSON."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        uploads: Mapping[str, int] | None = None,
        refuse: Callable[[Scope, int], Response] | None = None,
    ) -> None:
        self.app, self.max_bytes = app, max_bytes
        self.uploads = dict(uploads or {})
        self.refuse = refuse or too_large_json

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.uploads.get(scope["path"], self.max_bytes)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self.refuse(scope, limit)(scope, receive, send)
            return
        seen = 0
        started = cut = False

        async def counting_receive() -> Message:
            nonlocal seen, cut
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    cut = True
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if cut:  # the app answered a body it could not read whole (FastAPI: a 400)
                if not started and message["type"] == "http.response.start":
                    started = True
                    await self.refuse(scope, limit)(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self.refuse(scope, limit)(scope, receive, send)


def too_large_json(_scope: Scope, limit: int) -> Response:
    detail = f"the request body is too large; the limit is {limit} bytes"
    body = {"detail": detail, "code": "body_too_large", "params": {"limit": limit}}
    return JSONResponse(body, status_code=413)


class _TooLarge(Exception):
    pass
