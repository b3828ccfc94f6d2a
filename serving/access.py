"""Who may call the service and how much they may send, checked before a request's body is read.

- **Keys and roles.** ``LEADQ_API_KEYS`` holds ``name:key`` (a scoring key: score leads, read the model) and
  ``name:key:admin`` (an admin key: also reload the model) pairs; a name or a key given twice is refused at start.
  Keys are compared in constant time, and the name, never the key, identifies the caller in the logs.
- **The request guard** (:class:`RequestGuard`, a plain ASGI middleware): the ``Content-Length`` is checked
  against the body limit first, then the key (and the admin role under ``/v1/admin/``), all before a byte of the
  body is read; a body streamed without a length is counted as it arrives and refused once it passes the limit.
  So an oversized batch costs no parsing and an unauthenticated request no body at all.
- **Keys never logged.** uvicorn's access log prints the path with its query string;
  :class:`QueryRedactingFilter` drops the query (the API takes none), so a key put in a URL by mistake does not
  reach the log.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from serving.schemas import ErrorOut

API_KEY_HEADER = "X-API-Key"
PROTECTED_PREFIX = "/v1/"  # every /v1 route needs a key
ADMIN_PREFIX = "/v1/admin/"  # ... and these an admin key
Role = Literal["scoring", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
MIN_KEY_LENGTH = 8


class ApiError(Exception):
    """An error with a status code and a stable code, rendered as ErrorOut."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class BodyTooLargeError(StarletteHTTPException):
    """A body streamed without a length passed the limit (an HTTPException, so FastAPI's body reading re-raises it)."""

    code = "body_too_large"

    def __init__(self, limit: int):
        super().__init__(413, f"the request body is larger than the limit of {limit:,} bytes")


@dataclass(frozen=True)
class ApiKey:
    """One key of ``LEADQ_API_KEYS``: scoring keys score and read the model; admin keys may also reload it."""

    key: str
    role: Role = "scoring"


@dataclass(frozen=True)
class Caller:
    name: str  # the key's name: in the logs instead of the key
    role: Role


ANONYMOUS = Caller("anonymous", "admin")  # --insecure-no-auth on a development machine


def parse_api_keys(raw: str | None) -> dict[str, ApiKey]:
    """``name:key`` or ``name:key:admin`` entries, comma-separated (LEADQ_API_KEYS).

    Raises:
        ValueError: a malformed entry or a name given twice (named by position and name, never the key),
            or one key under two names.
    """
    keys: dict[str, ApiKey] = {}
    positions: dict[str, int] = {}
    for position, entry in enumerate(filter(None, (part.strip() for part in (raw or "").split(","))), start=1):
        parts = [part.strip() for part in entry.split(":")]
        role = parts.pop() if len(parts) == 3 else "scoring"
        if len(parts) != 2 or not parts[0] or len(parts[1]) < MIN_KEY_LENGTH or role not in ROLES:
            raise ValueError(
                f"LEADQ_API_KEYS entry {position}: expected name:key or name:key:admin, with a key of at least "
                f"{MIN_KEY_LENGTH} characters and no colon"
            )
        name, key = parts
        if name in keys:
            raise ValueError(
                f"LEADQ_API_KEYS entries {positions[name]} and {position} both use the name {name!r}: "
                "every key needs its own name (the logs tell callers apart by it)"
            )
        twin = next((other for other, known in keys.items() if hmac.compare_digest(known.key, key)), None)
        if twin is not None:
            raise ValueError(f"LEADQ_API_KEYS entries {positions[twin]} and {position} hold the same key")
        keys[name], positions[name] = ApiKey(key, role), position
    return keys


class KeyRing:
    """The configured keys; :meth:`identify` names the caller of a request's key."""

    def __init__(self, keys: Mapping[str, str | ApiKey]):
        # a plain string is a scoring key (as the tests and the quarter demo give them)
        entries = {name: key if isinstance(key, ApiKey) else ApiKey(key) for name, key in keys.items()}
        self._keys = [(name, entry.key.encode(), entry.role) for name, entry in entries.items()]

    def identify(self, given: str | None) -> Caller:
        """The caller whose key was given; 401 without a key, 403 with a wrong one."""
        if not given:
            raise ApiError(401, "unauthorized", f"missing {API_KEY_HEADER} header (a key in the URL is not read)")
        matched = None
        for name, key, role in self._keys:  # compare against every key: timing does not reveal which
            if hmac.compare_digest(given.encode(), key):
                matched = Caller(name, role)
        if matched is None:
            raise ApiError(403, "forbidden", f"the {API_KEY_HEADER} is not valid")
        return matched


def require_admin(caller: Caller) -> None:
    """403 unless the caller holds an admin key."""
    if caller.role != "admin":
        raise ApiError(
            403,
            "forbidden",
            f"the key {caller.name!r} may score leads, not administer the service (an admin key is name:key:admin)",
        )


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """An error in the service's one shape: ``{"error": {"code", "message", "details"}}``."""
    body = ErrorOut.model_validate({"error": {"code": code, "message": message, "details": []}})
    return JSONResponse(status_code=status, content=body.model_dump(), headers=headers)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value).decode("latin-1")
    return None


class RequestGuard:
    """Refuses a request before its body is read: too large (413), no key (401), a wrong key or role (403).

    The caller found is put in the request's state (``request.state.caller``) for the routes.

    Args:
        app: the application behind the guard.
        keys: the keys; None serves without authentication (development only).
        max_body_bytes: the largest request body accepted.
    """

    def __init__(self, app: ASGIApp, keys: KeyRing | None, max_body_bytes: int):
        self.app, self.keys, self.max_body_bytes = app, keys, max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length, limit = _content_length(scope), self.max_body_bytes
        if length is not None and length > limit:  # cheapest first: no key compared, no byte read
            message = f"the request body is larger than the limit of {limit:,} bytes (got {length:,})"
            await error_response(413, "body_too_large", message)(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(PROTECTED_PREFIX):
            try:
                caller = ANONYMOUS if self.keys is None else self.keys.identify(_header(scope, b"x-api-key"))
                if path.startswith(ADMIN_PREFIX):
                    require_admin(caller)
            except ApiError as error:
                await error_response(error.status, error.code, error.message)(scope, receive, send)
                return
            scope.setdefault("state", {})["caller"] = caller
        received = 0

        async def counted() -> Message:  # a body without a length (chunked) is counted as it arrives
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        await self.app(scope, counted, send)


class QueryRedactingFilter(logging.Filter):
    """Drops the query string from uvicorn's access log lines (``"POST /v1/leads/score?[query removed] ..."``).

    The service reads no query parameter, so nothing is lost; a key (or an e-mail) put in a URL by mistake
    never reaches the log.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        # uvicorn.access: (client address, method, path with query, HTTP version, status)
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?[query removed]", *args[3:])
        return True


def redact_access_log_queries(logger: logging.Logger | None = None) -> None:
    """Install :class:`QueryRedactingFilter` on uvicorn's access logger (once; it survives uvicorn's log setup)."""
    access = logger or logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, QueryRedactingFilter) for existing in access.filters):
        access.addFilter(QueryRedactingFilter())
