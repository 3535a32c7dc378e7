"""The HTTP source: ``POST {base_url}/responses`` with aiohttp, as a cold ``Observable[bytes]``.

::

    body = build_request("gpt-5", "Hello", reasoning_effort="low")
    items = stream_responses(body)           # needs a running asyncio loop
    items.subscribe(TerminalView())

Each subscription sends its own request on the running event loop and emits
the body's chunks as they arrive. Every failure reaches ``on_error`` as one
of the typed exceptions of ``operators`` (``finalize`` turns it into the
``error`` item of SPEC §4)::

    refused, DNS, TLS, connect timeout      ConnectError        connect_error
    HTTP 429                                RateLimited         rate_limited
    HTTP 5xx                                ServerError         server_error
    other non-2xx, 2xx not an event stream  HTTPStatusError     http_error
    a key bound for plain HTTP, not local   InsecureKeyRefused  usage_error (nothing sent)
    a base URL not http(s)://, no loop      UsageError          usage_error (nothing sent)
    no bytes for ``idle_timeout`` seconds   StreamTimeout       timeout
    connection lost mid-stream              StreamInterrupted   stream_interrupted

Disposing the subscription cancels the request and closes the connection at
once. The API key (an argument, else ``OPENAI_API_KEY``) is sent as a bearer
token and nowhere else: messages forwarded from the server have it replaced
by ``[redacted]``, and nothing here shows it in a ``repr``.

The key travels only over TLS, or to this machine: with a key, a base URL
that is not ``https://`` is refused before anything is sent unless its host
is a loopback one (``localhost``, ``127.0.0.0/8``, ``::1``) or the caller
passes ``allow_insecure_key=True`` (the CLI's ``--allow-insecure-key``). The
refusal is an ``InsecureKeyRefused`` (a ``UsageError``: kind
``usage_error``, ``status`` null, not retryable — the request itself is wrong,
no connection was tried, so ``connect_error`` would mislead a retry loop).
Sending the request without the key instead would fail later with a 401 at
best, after the prompt went out in clear text; refusing says why at once.

TLS certificates are always verified: this module never passes
``ssl=False``. A caller who needs another trust store or no verification
(a test server with a self-signed certificate) brings a ``session`` whose
connector says so, e.g. ``aiohttp.TCPConnector(ssl=context)``.
"""

import asyncio
import email.utils
import ipaddress
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias
from urllib.parse import quote

import aiohttp
import yarl
from reactivex import Observable, abc
from reactivex.disposable import Disposable

from ._compose import redact, responses
from .flow import FlowControl
from .operators import (
    ConnectError,
    HTTPStatusError,
    Item,
    PipelineError,
    RateLimited,
    ServerError,
    StreamInterrupted,
    StreamTimeout,
    UsageError,
)
from .operators._errors import code_text, is_fatal, retry_after_from_message

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ANTHROPIC_BASE_URL = "https://api.anthropic.com/v1"
DEFAULT_IDLE_TIMEOUT = 60.0
DEFAULT_CONNECT_TIMEOUT = 10.0
API_KEY_ENV = "OPENAI_API_KEY"
ANTHROPIC_API_KEY_ENV = "ANTHROPIC_API_KEY"
#: The ``anthropic-version`` header sent to Anthropic Messages.
ANTHROPIC_VERSION = "2023-06-01"

#: How much of an error response's body is read to find its ``error`` object.
_MAX_ERROR_BODY = 64 * 1024


class InsecureKeyRefused(UsageError):
    """An API key would have gone in clear text to another machine; nothing was sent.

    Kind ``usage_error``, ``status`` ``None``, not retryable: retrying cannot
    help, the base URL (or ``allow_insecure_key=True``) must change.
    """


def is_loopback_host(host: str | None) -> bool:
    """Whether ``host`` names this machine: ``localhost``, ``127.0.0.0/8`` or ``::1``."""
    if not host:
        return False
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def key_may_travel_to(url: str) -> bool:
    """Whether a bearer key may be sent to ``url``: over ``https``, or to a loopback host."""
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return False
    if parsed.scheme.lower() == "https":
        return True
    return is_loopback_host(parsed.raw_host)


@dataclass(frozen=True)
class FunctionTool:
    """A function the model may call: its name, what it does, and a JSON schema of its input."""

    name: str
    description: str | None = None
    parameters: Mapping[str, Any] = field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )

    def to_json(self) -> dict[str, Any]:
        """The tool as the Responses API takes it."""
        tool: dict[str, Any] = {"type": "function", "name": self.name}
        if self.description is not None:
            tool["description"] = self.description
        tool["parameters"] = dict(self.parameters)
        return tool


def build_request(
    model: str,
    input: str | Sequence[Mapping[str, Any]],
    *,
    instructions: str | None = None,
    tools: Sequence[FunctionTool | Mapping[str, Any]] | None = None,
    reasoning_effort: str | None = None,
    reasoning_summary: str | None = None,
    include_encrypted_reasoning: bool = True,
    store: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON body of a streamed ``POST /responses``.

    ``input`` is a prompt or a list of input items (``{"role": "user",
    "content": "..."}``, earlier outputs, tool results). With
    ``include_encrypted_reasoning`` (the default, and what ``store=False``
    needs to continue a conversation) the reasoning comes back as
    ``encrypted_reasoning`` items. ``extra`` fields are added as given
    (``max_output_tokens=...``, ``tool_choice=...``) and win over the others.
    """
    if not isinstance(input, str):
        input = [dict(message) for message in input]
    body: dict[str, Any] = {"model": model, "input": input}
    if instructions is not None:
        body["instructions"] = instructions
    if tools:
        body["tools"] = [
            tool.to_json() if isinstance(tool, FunctionTool) else dict(tool) for tool in tools
        ]
    reasoning: dict[str, str] = {}
    if reasoning_effort is not None:
        reasoning["effort"] = reasoning_effort
    if reasoning_summary is not None:
        reasoning["summary"] = reasoning_summary
    if reasoning:
        body["reasoning"] = reasoning
    if include_encrypted_reasoning:
        body["include"] = ["reasoning.encrypted_content"]
    body["store"] = store
    body["stream"] = True
    body.update(extra)
    return body


def build_chat_request(
    model: str,
    input: str | Sequence[Mapping[str, Any]],
    *,
    tools: Sequence[FunctionTool | Mapping[str, Any]] | None = None,
    max_tokens: int | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON body of a streamed ``POST /chat/completions`` (usage asked for at the end).

    ``input`` is a prompt or a list of messages. A ``FunctionTool`` is sent in
    the Chat Completions shape (``{"type": "function", "function": {...}}``).
    """
    messages = (
        [{"role": "user", "content": input}]
        if isinstance(input, str)
        else [dict(message) for message in input]
    )
    body: dict[str, Any] = {"model": model, "messages": messages}
    if tools:
        body["tools"] = [
            {"type": "function", "function": {k: v for k, v in t.to_json().items() if k != "type"}}
            if isinstance(t, FunctionTool)
            else dict(t)
            for t in tools
        ]
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    body.update(extra)
    return body


def build_anthropic_request(
    model: str,
    input: str | Sequence[Mapping[str, Any]],
    *,
    max_tokens: int = 4096,
    system: str | None = None,
    tools: Sequence[FunctionTool | Mapping[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The JSON body of a streamed ``POST /messages`` (``max_tokens`` is required there)."""
    messages = (
        [{"role": "user", "content": input}]
        if isinstance(input, str)
        else [dict(message) for message in input]
    )
    body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
    if system is not None:
        body["system"] = system
    if tools:
        body["tools"] = [
            {
                "name": t.name,
                **({"description": t.description} if t.description is not None else {}),
                "input_schema": dict(t.parameters),
            }
            if isinstance(t, FunctionTool)
            else dict(t)
            for t in tools
        ]
    body["stream"] = True
    body.update(extra)
    return body


def build_wire_request(
    wire: "Wire", model: str, prompt: str, *, max_tokens: int | None = None
) -> dict[str, Any]:
    """The body of a streamed request with one prompt, in ``wire``'s shape.

    ``max_tokens`` caps the output (Anthropic needs a cap: 1024 when none is given).
    """
    if wire == "chat":
        return build_chat_request(model, prompt, max_tokens=max_tokens)
    if wire == "anthropic":
        return build_anthropic_request(model, prompt, max_tokens=max_tokens or 1024)
    if max_tokens is None:
        return build_request(model, prompt)
    return build_request(model, prompt, max_output_tokens=max_tokens)


def resolve_api_key(api_key: str | None, env: str = API_KEY_ENV) -> str | None:
    """``api_key``, else the variable ``env``; an empty key means none (no credential sent)."""
    key = api_key if api_key is not None else os.environ.get(env)
    return key or None


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait, from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis)
        except ValueError:
            pass
        else:
            if value >= 0 and value == value:  # not NaN
                return value / 1000.0
    text = headers.get("retry-after")
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        return value if value >= 0 and value == value else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def _error_fields(body: bytes) -> tuple[object, str | None, str | None]:
    """``error.code`` (as sent), ``error.message`` and ``error.type`` of an error body."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None, None, None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None, None
    code, message, kind = error.get("code"), error.get("message"), error.get("type")
    return (
        code,
        message if isinstance(message, str) and message else None,
        kind if isinstance(kind, str) else None,
    )


def status_error(
    status: int,
    reason: str | None,
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str] = (),
) -> PipelineError:
    """The exception for a non-2xx answer (SPEC §4): kind, code, message, retryability, delay.

    ``code`` is the body's ``error.code`` (an integer as its decimal text), else
    its ``error.type``; the message is its ``error.message``, else the reason phrase.
    """
    raw_code, message, error_type = _error_fields(body)
    text = redact(message or reason or f"HTTP {status}", secrets)
    retry_after = parse_retry_after(headers)
    if retry_after is None:
        retry_after = retry_after_from_message(text)
    fatal = is_fatal(raw_code, error_type) or is_fatal(error_type)
    code = code_text(raw_code) or error_type
    if code is not None:  # a server that echoes the key may do it in its code too
        code = redact(code, secrets)
    if status == 429:
        return RateLimited(
            text, code=code, status=status, retryable=not fatal, retry_after=retry_after
        )
    if status >= 500:
        return ServerError(
            text, code=code, status=status, retryable=not fatal, retry_after=retry_after
        )
    return HTTPStatusError(
        text, code=code, status=status, retryable=status in (408, 409), retry_after=retry_after
    )


def _is_event_stream(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "text/event-stream"


async def _read_some(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Up to ``limit`` bytes of the body; what came before a failure, if reading fails."""
    body = bytearray()
    try:
        async for chunk in response.content.iter_any():
            body += chunk
            if len(body) >= limit:
                break
    except (aiohttp.ClientError, TimeoutError):
        pass
    return bytes(body[:limit])


def _map_failure(
    exc: BaseException, headers_seen: bool, idle_timeout: float, secrets: Sequence[str]
) -> PipelineError | None:
    """The typed exception for a transport failure, or ``None`` if it is not one."""

    def text(message: str) -> str:
        return redact(message, secrets)

    if isinstance(exc, PipelineError):
        return exc
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectError(text(f"connect timeout: {exc}"))
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(text(f"could not connect: {exc}"))
    if isinstance(exc, aiohttp.InvalidURL):
        return UsageError(text(f"invalid URL: {exc}"))
    if isinstance(exc, TimeoutError):  # aiohttp's read timeouts are TimeoutErrors too
        what = "data" if headers_seen else "response headers"
        return StreamTimeout(f"no {what} for {idle_timeout:g} s (idle timeout)")
    if isinstance(exc, aiohttp.ClientError):
        detail = str(exc) or type(exc).__name__
        return StreamInterrupted(text(f"connection lost: {detail}"))
    return None


def _without_credentials(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    try:
        return str(yarl.URL(url).with_user(None))
    except (TypeError, ValueError):
        return "the base URL"


def _is_http_url(url: str) -> bool:
    """Whether ``url`` is an ``http://`` or ``https://`` URL with a host."""
    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return False
    return parsed.scheme.lower() in ("http", "https") and bool(parsed.raw_host)


def _timeout(idle_timeout: float, connect_timeout: float) -> aiohttp.ClientTimeout:
    # No cap on the whole call: a long generation is fine as long as bytes keep coming.
    return aiohttp.ClientTimeout(
        total=None, connect=None, sock_connect=connect_timeout, sock_read=idle_timeout
    )


Wire: TypeAlias = Literal["responses", "chat", "anthropic"]
#: Each wire's path under the base URL, and whether its key goes as ``x-api-key``.
ENDPOINTS: dict[str, tuple[str, bool]] = {
    "responses": ("/responses", False),
    "chat": ("/chat/completions", False),
    "anthropic": ("/messages", True),
}


#: With flow control, the most one read hands to the pipeline.
FLOW_CHUNK_BYTES = 16 * 1024


def http_source(
    body: Mapping[str, Any],
    *,
    base_url: str = DEFAULT_BASE_URL,
    api_key: str | None = None,
    session: aiohttp.ClientSession | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    flow: FlowControl | None = None,
    allow_insecure_key: bool = False,
    wire: Wire = "responses",
    resume: tuple[str, int] | None = None,
) -> Observable[bytes]:
    """The body of ``POST {base_url}/responses`` as it arrives: a cold ``Observable[bytes]``.

    With ``resume=(response_id, n)`` it is instead ``GET
    {base_url}/responses/{response_id}?stream=true&starting_after={n}``: a
    background response's events again, from the one after ``n``.

    ``wire`` picks the endpoint: ``"responses"`` (``/responses``), ``"chat"``
    (``/chat/completions``) or ``"anthropic"`` (``/messages``, the key sent as
    ``x-api-key`` with an ``anthropic-version`` header instead of a bearer token).

    Subscribe on a running asyncio loop: each subscription sends its own
    request (``Accept: text/event-stream``, ``Authorization: Bearer`` when
    there is a key) from a task, emits the body's chunks as they arrive, and
    completes at its end. A failure goes to ``on_error`` as a typed exception
    (see the module docstring). ``idle_timeout`` bounds the wait for the
    headers and every gap between chunks, not the whole answer;
    ``connect_timeout`` bounds making the connection. Disposing cancels the
    request and closes its connection. A caller's ``session`` is used and left
    open (pass one for proxies, TLS settings or connection reuse); without one,
    each subscription opens a session and always closes it. With ``flow``,
    the next chunk is not read while a consumer has paused it (see
    ``rxresponses.flow``); that wait does not count toward ``idle_timeout``.

    With a key, a base URL that is neither ``https://`` nor a loopback host is
    refused: every subscription gets ``on_error(InsecureKeyRefused(...))``
    (kind ``usage_error``, ``status`` ``None``, not retryable) and no
    connection is made, unless ``allow_insecure_key=True``. Without a key
    nothing is secret and any URL is used (an ``Authorization`` the caller
    puts in ``headers`` is the caller's to guard). TLS is always verified (see
    the module docstring for bringing a session that does otherwise).
    """
    if idle_timeout <= 0:
        raise ValueError(f"idle_timeout must be positive, not {idle_timeout}")
    if connect_timeout <= 0:
        raise ValueError(f"connect_timeout must be positive, not {connect_timeout}")
    if wire not in ENDPOINTS:
        raise ValueError(f"wire must be one of {sorted(ENDPOINTS)}, not {wire!r}")
    path, key_header = ENDPOINTS[wire]
    method, query = "POST", None
    if resume is not None:
        response_id, after = resume
        method, query = "GET", {"stream": "true", "starting_after": str(after)}
        path = f"{path}/{quote(response_id, safe='')}"
    url = base_url.rstrip("/") + path
    payload = None if resume is not None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    key = resolve_api_key(api_key, ANTHROPIC_API_KEY_ENV if key_header else API_KEY_ENV)
    secrets = (key,) if key else ()
    refused: UsageError | None = None
    if not _is_http_url(url):
        shown = redact(_without_credentials(url), secrets)
        refused = UsageError(f"the base URL must start with http:// or https://: {shown}")
    elif key and not allow_insecure_key and not key_may_travel_to(url):
        shown = redact(_without_credentials(url), secrets)
        refused = InsecureKeyRefused(
            f"refusing to send the API key in clear text to {shown}: use an https:// "
            "base URL, a loopback host, or allow_insecure_key=True "
            "(--allow-insecure-key) if the network is trusted"
        )
    request_headers = {
        "Accept": "text/event-stream",
        "Content-Type": "application/json",
        "Cache-Control": "no-cache",
        **({"anthropic-version": ANTHROPIC_VERSION} if key_header else {}),
        **(headers or {}),
    }
    timeout = _timeout(idle_timeout, connect_timeout)

    def subscribe(
        observer: abc.ObserverBase[bytes], scheduler: abc.SchedulerBase | None = None
    ) -> abc.DisposableBase:
        if refused is not None:  # nothing is sent, not even the connection made
            observer.on_error(refused)
            return Disposable()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            observer.on_error(
                UsageError(
                    "the HTTP source needs a running asyncio event loop: subscribe from a coroutine"
                )
            )
            return Disposable()
        disposed = False
        cancellable = True  # False once reading is over and only clean-up is left

        async def pump() -> None:
            nonlocal cancellable
            own = session is None
            client = session or aiohttp.ClientSession()
            sent = dict(request_headers)
            if key and key_header:
                sent["x-api-key"] = key
            elif key:
                sent["Authorization"] = f"Bearer {key}"
            failure: Exception | None = None
            caller_error: Exception | None = None  # raised by the subscriber's own on_next
            headers_seen = False
            try:
                async with client.request(
                    method,
                    url,
                    params=query,
                    data=payload,
                    headers=sent,
                    timeout=timeout,
                    allow_redirects=False,  # a redirect is an ``http_error``, not a new POST
                    raise_for_status=False,  # statuses are mapped here, whatever the session says
                ) as response:
                    headers_seen = True
                    failure = await _check(response)
                    if failure is None:
                        chunks = (
                            response.content.iter_any()
                            if flow is None
                            # Paced reading: at most one bounded read lands at once.
                            else response.content.iter_chunked(FLOW_CHUNK_BYTES)
                        )
                        async for chunk in chunks:
                            try:
                                observer.on_next(chunk)
                            except Exception as exc:
                                caller_error = exc
                                break
                            if flow is not None and flow.paused:
                                await flow.ready()  # a slow consumer: stop reading
                            if disposed:
                                break
                    if disposed or failure is not None or caller_error is not None:
                        response.close()  # a half-read body: drop the connection now
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failure = exc
            finally:
                cancellable = False
                if own:
                    await client.close()
            if disposed:
                return
            if caller_error is not None:
                observer.on_error(caller_error)
            elif failure is not None:
                mapped = _map_failure(failure, headers_seen, idle_timeout, secrets)
                observer.on_error(mapped if mapped is not None else failure)
            else:
                observer.on_completed()

        async def _check(response: aiohttp.ClientResponse) -> PipelineError | None:
            if not 200 <= response.status < 300:
                data = await _read_some(response, _MAX_ERROR_BODY)
                return status_error(
                    response.status, response.reason, data, response.headers, secrets
                )
            content_type = response.headers.get("Content-Type", "")
            if not _is_event_stream(content_type):
                shown = redact(content_type or "no content type", secrets)
                return HTTPStatusError(
                    f"expected text/event-stream, got {shown}", status=response.status
                )
            return None

        task = loop.create_task(pump())

        def dispose() -> None:
            nonlocal disposed
            if disposed:
                return
            disposed = True
            if not cancellable or task.done():
                return  # reading is over: the task only closes what it opened
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:  # disposed from another thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(task.cancel)
            elif asyncio.current_task() is not task:
                task.cancel()
            # else: disposed from our own ``on_next`` (``finalize`` after a terminal
            # event): the flag stops the reading right after it returns.

        return Disposable(dispose)

    return Observable(subscribe)


def stream_responses(
    body: Mapping[str, Any],
    *,
    base_url: str = DEFAULT_BASE_URL,
    api_key: str | None = None,
    session: aiohttp.ClientSession | None = None,
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    headers: Mapping[str, str] | None = None,
    flow: FlowControl | None = None,
    allow_insecure_key: bool = False,
    wire: Wire = "responses",
) -> Observable[Item]:
    """The items of a streamed response: ``responses(http_source(...))``, key redacted.

    Every subscription sends its own request and gets ``start`` … ``done``;
    failures, HTTP ones included, are ``error`` items (SPEC §4). A key bound
    for a plain-HTTP host other than a loopback one is refused (one
    ``usage_error`` item, nothing sent) unless ``allow_insecure_key=True``.
    ``wire`` picks the endpoint and the event format (see ``http_source``);
    ``stream_chat`` and ``stream_anthropic`` say it for you.
    """
    key = resolve_api_key(api_key, _KEY_ENV[wire])
    source = http_source(
        body,
        base_url=base_url,
        api_key=key or "",
        session=session,
        idle_timeout=idle_timeout,
        connect_timeout=connect_timeout,
        headers=headers,
        flow=flow,
        allow_insecure_key=allow_insecure_key,
        wire=wire,
    )
    return responses(source, wire=wire, secrets=(key,) if key else ())


def stream_chat(
    body: Mapping[str, Any], *, base_url: str = DEFAULT_BASE_URL, **options: Any
) -> Observable[Item]:
    """The items of a streamed ``POST {base_url}/chat/completions`` (key from ``OPENAI_API_KEY``).

    Takes the options of ``stream_responses``; any OpenAI-compatible server
    (vLLM, Ollama, llama.cpp, LM Studio, OpenRouter, …) answers it.
    """
    return stream_responses(body, base_url=base_url, wire="chat", **options)


def stream_anthropic(
    body: Mapping[str, Any], *, base_url: str = ANTHROPIC_BASE_URL, **options: Any
) -> Observable[Item]:
    """The items of a streamed ``POST {base_url}/messages`` (key from ``ANTHROPIC_API_KEY``).

    Takes the options of ``stream_responses``.
    """
    return stream_responses(body, base_url=base_url, wire="anthropic", **options)


_KEY_ENV: dict[str, str] = {
    "responses": API_KEY_ENV,
    "chat": API_KEY_ENV,
    "anthropic": ANTHROPIC_API_KEY_ENV,
}


__all__ = [
    "ANTHROPIC_API_KEY_ENV",
    "ANTHROPIC_BASE_URL",
    "ANTHROPIC_VERSION",
    "API_KEY_ENV",
    "DEFAULT_BASE_URL",
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "ENDPOINTS",
    "FunctionTool",
    "InsecureKeyRefused",
    "Wire",
    "build_anthropic_request",
    "build_chat_request",
    "build_request",
    "build_wire_request",
    "http_source",
    "is_loopback_host",
    "key_may_travel_to",
    "parse_retry_after",
    "resolve_api_key",
    "status_error",
    "stream_anthropic",
    "stream_chat",
    "stream_responses",
]
