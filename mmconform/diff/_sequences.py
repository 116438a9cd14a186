"""Request sequences whose later answers show what an earlier request did.

The generated cases are independent requests: each proves what one answer looks like. Some
promises only show across requests: a busy state that ends by itself once its time has
passed, a notice marked viewed that is no longer listed, a posted log line that reaches the
log, a masked secret sent back that leaves the stored one alone, a config reload that keeps
what was saved, a trial granted once, a ping that keeps to its REST semantics on an unhealthy
server, RestrictSystemAdmin refusing what it restricts, the connection tests reaching the
service the stored or posted settings name. A *sequence* is a few such requests, played on each
side on its own (so that a request may carry what that side answered before: the config it showed,
the notices it listed) and compared step by step.

Each step's answer is compared as a generated one is, at the shape level (its values carry the
times and what earlier steps left); after the first step whose status differs nothing later in the
sequence is compared (the status is the difference). A step may *observe* something of its
answer (``busy`` once the expiry has passed, whether the marker is in the log, how a secret
reads): an observation that differs is an ``effect`` difference, named after the operation
whose effect it shows. Steps marked *clean-up* put back what the sequence changed; they are
always sent and never compared.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any, Final
from urllib.parse import urlencode

from mmconform._wire import (
    ANONYMOUS,
    CONFIG_MASK,
    LOCAL,
    SECRETS_MASKED_WHEN_SET,
    Secret,
    loopback_mail_settings,
    redact,
    setting_patch,
    setting_value,
)
from mmconform.contract import Contract
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._sides import SideFacts

__all__ = [
    "NOT_SELECTED",
    "SEQUENCES",
    "SEQUENCE_MARKER",
    "Observation",
    "PlayedStep",
    "Precondition",
    "RequestSequence",
    "SequenceContext",
    "Step",
    "choose_sequences",
    "play",
    "sequence_named",
    "step_request",
]

#: Why a sequence is not played in a run narrowed to other operations (``--operation``).
NOT_SELECTED: Final = "not among the operations compared"
#: The text a posted log line carries: the same in every run, so that the log lines the
#: sequences leave compare alike between runs (the sequence counts its lines).
SEQUENCE_MARKER: Final = "mmconform-diff-posted-line"
ADMIN: Final = "system_admin"
USER: Final = "system_user"
#: How long a step that waits for something (a busy state set for a second to end, a log line
#: to be written: real servers write their log a moment later) asks again, at most.
POLL_SECONDS: Final = 3.0
_POLL_INTERVAL: Final = 0.1

#: What a side answered earlier in a sequence, by the name a step kept it under.
Memory = dict[str, Any]


@dataclass(frozen=True)
class SequenceContext:
    """What every side's sequences share in one run."""

    #: a loopback port where a test mail server listens (None: there is none)
    mail_port: int | None
    #: a loopback port where nothing listens
    closed_port: int


@dataclass(frozen=True)
class Observation:
    """Something a step reads from its answer, to be the same on both sides."""

    #: what is observed, in words ("busy once the expiry has passed")
    name: str
    #: the operation whose effect it shows (the group it is reported under)
    about: str
    read: Callable[[Answer, Memory, SequenceContext], Any]


BodyMaker = Callable[[Memory, SequenceContext], Any]


@dataclass(frozen=True)
class Step:
    """One request of a sequence."""

    operation: str
    caller: str = ADMIN
    path_params: tuple[tuple[str, str], ...] = ()
    query: tuple[tuple[str, str], ...] = ()
    #: the JSON body, made from what this side answered earlier (None: no body)
    body: BodyMaker | None = None
    #: keep the answer's JSON under this name (a 200 answer's only)
    keep: str = ""
    #: ask again (for at most ``POLL_SECONDS``) until this holds of the answer
    until: Callable[[Answer, Memory, SequenceContext], bool] | None = None
    observe: tuple[Observation, ...] = ()
    #: what the sequence needs of the side, read from this step's answer: where it does not
    #: hold (on either side), the rest is not sent but for the clean-up, and nothing of the
    #: sequence is judged (a server that cannot reach the test mail server, a log not kept)
    needs: Precondition | None = None
    #: puts back what the sequence changed: always sent, never compared
    clean_up: bool = False


@dataclass(frozen=True)
class Precondition:
    """Something a side must have for a sequence to judge it, and how a step's answer shows it."""

    #: what is needed, in words ("file logging on")
    what: str
    holds: Callable[[Answer, Memory, SequenceContext], bool]


@dataclass(frozen=True)
class RequestSequence:
    """A request sequence and the promise it proves."""

    name: str
    proves: str
    #: the operations whose behaviour it proves (``--operation`` selects by these)
    concerns: tuple[str, ...]
    steps: tuple[Step, ...]
    #: it asks a side to send mail to a server on this machine
    needs_mail: bool = False
    #: the server-wide state it leaves changed (the license a trial grants): such a sequence
    #: is played after the generated cases, as the operations that change it are; the others
    #: put back what they change and are played first
    leaves_changed: str = ""

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.operation for step in self.steps))

    @property
    def callers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(step.caller for step in self.steps))


@dataclass(frozen=True)
class PlayedStep:
    """One step as one side played it."""

    index: int
    request: RequestSpec
    caller: str
    answer: Answer
    observed: Mapping[str, Any] = field(default_factory=dict)
    clean_up: bool = False
    #: the precondition this step found unmet on this side (None: met, or none)
    unmet: str | None = None


# -- reading answers ------------------------------------------------------------------------------
def _field(name: str) -> Callable[[Answer, Memory, SequenceContext], Any]:
    def read(answer: Answer, memory: Memory, context: SequenceContext) -> Any:
        body = answer.json_body()
        return body.get(name) if isinstance(body, dict) else None

    return read


_BUSY_SECONDS: Final = 300
#: how far an expiry may lie from the server's clock plus the seconds set (the two reads are a
#: moment apart, and the Date header counts whole seconds)
_BUSY_SLACK: Final = 30


def _expiry_ahead(answer: Answer, memory: Memory, context: SequenceContext) -> str:
    """Where the busy expiry lies against the answer's ``Date``: "the seconds set" when it is
    within half a minute of it, else which way it is off (an expiry in milliseconds lies more
    than a day ahead)."""
    body = answer.json_body()
    expires = body.get("expires") if isinstance(body, dict) else None
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        return f"no number ({type(expires).__name__})"
    now = parsedate_to_datetime(answer.headers["date"]).timestamp()
    ahead = expires - now
    if abs(ahead - _BUSY_SECONDS) <= _BUSY_SLACK:
        return "the seconds set"
    if ahead <= 0:
        return "not ahead"
    if ahead < _BUSY_SECONDS:
        return "less than the seconds set"
    if ahead < 86400:
        return "more than the seconds set, under a day"
    return "more than a day ahead"


def _not_busy(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
    body = answer.json_body()
    return answer.status != 200 or not isinstance(body, dict) or body.get("busy") is not True


def _answered_200(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
    return answer.status == 200


def _file_logging(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
    return setting_value(answer.json_body(), ("LogSettings", "EnableFile")) is True


def _rows(answer: Answer) -> int:
    body = answer.json_body()
    return len(body) if isinstance(body, list) else 0


def _two_audits_or_refused(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
    return answer.status != 200 or _rows(answer) >= 2


def _two_audits(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
    return answer.status == 200 and _rows(answer) >= 2


def _rows_listed(answer: Answer, memory: Memory, context: SequenceContext) -> int:
    return _rows(answer)


def _marker_lines(body: Any) -> int:
    if not isinstance(body, list):
        return 0
    return sum(1 for line in body if isinstance(line, str) and SEQUENCE_MARKER in line)


def _line_added(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
    """Whether the log holds more lines with the marker than it did before the line was posted
    (the marker is the same in every run, so the count, not its presence, tells)."""
    before = _marker_lines(memory.get("log"))
    return _marker_lines(answer.json_body()) > before


def _line_added_or_refused(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
    return answer.status != 200 or _line_added(answer, memory, context)


def _notice_ids(body: Any) -> list[str]:
    if not isinstance(body, list):
        return []
    return [str(item["id"]) for item in body if isinstance(item, dict) and "id" in item]


def _viewed_still_listed(answer: Answer, memory: Memory, context: SequenceContext) -> list[str]:
    marked = set(_notice_ids(memory.get("notices")))
    return sorted(marked & set(_notice_ids(answer.json_body())))


def _secret_path(memory: Memory) -> tuple[str, ...]:
    """The first secret this side's config shows empty (the first secret when none is)."""
    config = memory.get("config")
    for path in SECRETS_MASKED_WHEN_SET:
        if setting_value(config, path) == "":
            return path
    return SECRETS_MASKED_WHEN_SET[0]


def _secret_reads(answer: Answer, memory: Memory, context: SequenceContext) -> str:
    """How the secret the sequence sent the mask for reads: ``empty``, ``masked``, ``other``,
    as ``before → after`` (an empty secret must stay empty; a set one stays masked)."""

    def form(value: Any) -> str:
        return "empty" if value == "" else "masked" if value == CONFIG_MASK else "other"

    path = _secret_path(memory)
    before = form(setting_value(memory.get("config"), path))
    return f"{before} → {form(setting_value(answer.json_body(), path))}"


def _setting(path: tuple[str, ...]) -> Callable[[Answer, Memory, SequenceContext], Any]:
    def read(answer: Answer, memory: Memory, context: SequenceContext) -> Any:
        return setting_value(answer.json_body(), path)

    return read


# -- making bodies --------------------------------------------------------------------------------
def _constant(body: Any) -> BodyMaker:
    return lambda memory, context: body


def _put_back(path: tuple[str, ...], default: Any) -> BodyMaker:
    """A patch that puts back the value this side's config showed before (kept as ``config``),
    or ``default`` (the server's own) where it showed none; nothing where the config was never
    read (the sequence then changed nothing)."""

    def body(memory: Memory, context: SequenceContext) -> Any:
        config = memory.get("config")
        if not isinstance(config, dict):
            raise LookupError("the config was not read, so nothing was changed")
        before = setting_value(config, path)
        return setting_patch(path, default if before is None else before)

    return body


def _reads(path: tuple[str, ...], value: Any) -> Precondition:
    """The setting reads back as it was just set (no environment variable holds it)."""

    def holds(answer: Answer, memory: Memory, context: SequenceContext) -> bool:
        return bool(setting_value(answer.json_body(), path) == value)

    return Precondition(
        f"{'.'.join(path)} settable through the API (it reads back {json.dumps(value)} once "
        "set; an environment variable would hold it)",
        holds,
    )


def _switched(
    path: tuple[str, ...], value: Any, default: Any, *, caller: str = ADMIN
) -> tuple[tuple[Step, ...], Step]:
    """The steps that set one setting for a sequence (read the config, patch the setting, read
    it back: the sequence needs it to take) and the clean-up that puts it back."""
    on = (
        Step("GetConfig", caller=caller, keep="config", needs=_CONFIG_READABLE),
        Step("PatchConfig", caller=caller, body=_constant(setting_patch(path, value))),
        Step("GetConfig", caller=caller, needs=_reads(path, value)),
    )
    back = Step("PatchConfig", caller=caller, body=_put_back(path, default), clean_up=True)
    return on, back


def _secret_emptied(memory: Memory, context: SequenceContext) -> Any:
    """Empty again the secret the mask was sent for, where it read empty before (a server
    that stored the mask is put back; a correct one is left as it was). Nothing is sent for a
    secret that held a value."""
    path = _secret_path(memory)
    if setting_value(memory.get("config"), path) != "":
        raise LookupError(f"{'.'.join(path)} held a value: it is left alone")
    return setting_patch(path, "")


def _mask_for_secret(memory: Memory, context: SequenceContext) -> Any:
    return setting_patch(_secret_path(memory), CONFIG_MASK)


def _config_with_mask(memory: Memory, context: SequenceContext) -> Any:
    config = copy.deepcopy(memory["config"])
    path = _secret_path(memory)
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = CONFIG_MASK
    return config


def _viewed(memory: Memory, context: SequenceContext) -> Any:
    return _notice_ids(memory.get("notices"))


#: The mail settings the email sequence changes (and puts back).
MAIL_KEYS: Final = tuple(loopback_mail_settings(0))


def _stored_mail_reachable(memory: Memory, context: SequenceContext) -> Any:
    if context.mail_port is None:
        raise LookupError("no test mail server")
    return {"EmailSettings": loopback_mail_settings(context.mail_port)}


def _posted_mail_reachable(memory: Memory, context: SequenceContext) -> Any:
    if context.mail_port is None:
        raise LookupError("no test mail server")
    config = copy.deepcopy(memory["config"])
    config["EmailSettings"].update(loopback_mail_settings(context.mail_port), SMTPPassword="")
    return config


def _posted_mail_closed(memory: Memory, context: SequenceContext) -> Any:
    config = copy.deepcopy(memory["config"])
    config["EmailSettings"].update(loopback_mail_settings(context.closed_port), SMTPPassword="")
    return config


def _mail_put_back(memory: Memory, context: SequenceContext) -> Any:
    email = memory["config"]["EmailSettings"]
    return {"EmailSettings": {key: email[key] for key in MAIL_KEYS if key in email}}


def _s3_unreachable(memory: Memory, context: SequenceContext) -> Any:
    files = dict(memory["config"]["FileSettings"])
    files.update(
        DriverName="amazons3",
        AmazonS3Bucket="mmconform-unreachable",
        AmazonS3Endpoint=f"127.0.0.1:{context.closed_port}",
        AmazonS3SSL=False,
        AmazonS3AccessKeyId="mmconform",
        AmazonS3SecretAccessKey="mmconform-not-a-secret",
    )
    return {"FileSettings": files}


def _log_line(memory: Memory, context: SequenceContext) -> Any:
    return {"level": "ERROR", "message": SEQUENCE_MARKER}


# -- the catalogue --------------------------------------------------------------------------------
_THRESHOLD: Final = ("ServiceSettings", "GoroutineHealthThreshold")
_CONFIG_READABLE: Final = Precondition(
    "the config readable (GET /config answers 200)", _answered_200
)
_RESTRICT: Final = ("ExperimentalSettings", "RestrictSystemAdmin")
_MAX_USERS: Final = ("TeamSettings", "MaxUsersPerTeam")
_MAX_USERS_SAVED: Final = 77
_NOTICES_PATH: Final = (("teamId", "mmconformteam000000000000a"),)
_NOTICES_QUERY: Final = (("client", "web"), ("clientVersion", "10.0.0"), ("locale", "en"))
_TRIAL: Final = {"users": 100, "terms_accepted": True, "receive_emails_accepted": False}
_ONE_AUDIT: Final = (("page", "0"), ("per_page", "1"))
_LOGS_QUERY: Final = (("page", "0"), ("logs_per_page", "10000"))

#: the server made unhealthy (upstream's own way: a goroutine threshold every server exceeds)
_UNHEALTHY, _HEALTHY_AGAIN = _switched(_THRESHOLD, 1, -1)
#: RestrictSystemAdmin on, over the local socket (no admin could switch it off again)
_RESTRICTED, _UNRESTRICTED = _switched(_RESTRICT, True, False, caller=LOCAL)
_MAX_USERS_CHANGED, _MAX_USERS_BACK = _switched(_MAX_USERS, _MAX_USERS_SAVED, 50)

SEQUENCES: Final[tuple[RequestSequence, ...]] = (
    RequestSequence(
        name="busy-set-and-cleared",
        proves="busy set for 300 s expires 300 s after the server's clock, and DELETE ends it",
        concerns=("SetServerBusy", "ClearServerBusy", "GetServerBusyExpires"),
        steps=(
            Step("SetServerBusy", query=(("seconds", str(_BUSY_SECONDS)),)),
            Step(
                "GetServerBusyExpires",
                observe=(
                    Observation(
                        "the expiry, after the answer's Date",
                        "GetServerBusyExpires",
                        _expiry_ahead,
                    ),
                ),
            ),
            Step("ClearServerBusy"),
            Step(
                "GetServerBusyExpires",
                observe=(Observation("busy after DELETE", "ClearServerBusy", _field("busy")),),
            ),
            Step("ClearServerBusy", clean_up=True),
        ),
    ),
    RequestSequence(
        name="busy-expires",
        proves="a server set busy for one second is no longer busy once the second has passed",
        concerns=("SetServerBusy", "GetServerBusyExpires"),
        steps=(
            Step("ClearServerBusy"),
            Step("SetServerBusy", query=(("seconds", "1"),)),
            Step(
                "GetServerBusyExpires",
                until=_not_busy,
                observe=(
                    Observation(
                        "busy once the second set has passed",
                        "GetServerBusyExpires",
                        _field("busy"),
                    ),
                ),
            ),
            Step("ClearServerBusy", clean_up=True),
        ),
    ),
    RequestSequence(
        name="notice-viewed",
        proves="a notice marked viewed is no longer listed to the user who viewed it",
        concerns=("MarkNoticesViewed", "GetNotices"),
        steps=(
            Step(
                "GetNotices",
                caller=USER,
                path_params=_NOTICES_PATH,
                query=_NOTICES_QUERY,
                keep="notices",
            ),
            Step("MarkNoticesViewed", caller=USER, body=_viewed),
            Step(
                "GetNotices",
                caller=USER,
                path_params=_NOTICES_PATH,
                query=_NOTICES_QUERY,
                observe=(
                    Observation(
                        "notices listed again after being marked viewed",
                        "MarkNoticesViewed",
                        _viewed_still_listed,
                    ),
                ),
            ),
        ),
    ),
    RequestSequence(
        name="posted-log-line",
        proves="an admin's ERROR line posted to /logs appears in GET /logs",
        concerns=("PostLog", "GetLogs"),
        steps=(
            Step("GetConfig", needs=Precondition("file logging on", _file_logging)),
            Step("GetLogs", query=_LOGS_QUERY, keep="log"),
            Step("PostLog", body=_log_line),
            Step(
                "GetLogs",
                query=_LOGS_QUERY,
                until=_line_added_or_refused,
                observe=(Observation("the posted line in the log", "PostLog", _line_added),),
            ),
        ),
    ),
    RequestSequence(
        name="audits-later-page",
        proves="with two audits held, the second page of one audit per page holds one",
        concerns=("GetAudits",),
        steps=(
            Step("GetAudits", query=_ONE_AUDIT),
            Step("GetAudits", query=_ONE_AUDIT),
            Step(
                "GetAudits",
                query=(("page", "0"), ("per_page", "2")),
                until=_two_audits_or_refused,
                needs=Precondition(
                    "two audits held (GET /audits is recorded as an audit)", _two_audits
                ),
            ),
            Step(
                "GetAudits",
                query=(("page", "1"), ("per_page", "1")),
                observe=(
                    Observation("audits on page 1 of one per page", "GetAudits", _rows_listed),
                ),
            ),
        ),
    ),
    RequestSequence(
        name="image-opaque-url",
        proves="the image proxy refuses an opaque URL (mailto:) it cannot fetch",
        concerns=("GetImageByUrl",),
        steps=(Step("GetImageByUrl", query=(("url", "mailto:someone@example.com"),)),),
    ),
    RequestSequence(
        name="s3-test-unreachable",
        proves="the S3 test reports a file store nothing answers for, never OK",
        concerns=("TestS3Connection",),
        steps=(
            Step("GetConfig", keep="config", needs=_CONFIG_READABLE),
            Step("TestS3Connection", body=_s3_unreachable),
        ),
    ),
    RequestSequence(
        name="email-test-stored-settings",
        proves="the email test sends through the stored settings, not the posted ones",
        concerns=("TestEmail",),
        needs_mail=True,
        steps=(
            Step("GetConfig", keep="config", needs=_CONFIG_READABLE),
            Step("PatchConfig", body=_stored_mail_reachable),
            Step(
                "TestEmail",
                body=_posted_mail_reachable,
                needs=Precondition("a way to the test mail server on this machine", _answered_200),
            ),
            Step("TestEmail", body=_posted_mail_closed),
            Step("PatchConfig", body=_mail_put_back, clean_up=True),
        ),
    ),
    RequestSequence(
        name="ping-rest-semantics",
        proves="use_rest_semantics=true answers 200 with status UNHEALTHY on an unhealthy server",
        concerns=("GetPing",),
        steps=(
            *_UNHEALTHY,
            Step(
                "GetPing",
                caller=ANONYMOUS,
                query=(("use_rest_semantics", "true"),),
                observe=(Observation("the ping's status", "GetPing", _field("status")),),
            ),
            _HEALTHY_AGAIN,
        ),
    ),
    RequestSequence(
        name="restrict-system-admin",
        proves="with RestrictSystemAdmin on, an admin is refused the logs",
        concerns=("GetLogs",),
        steps=(
            *_RESTRICTED,
            Step("GetLogs", query=(("page", "0"), ("logs_per_page", "1"))),
            _UNRESTRICTED,
        ),
    ),
    RequestSequence(
        name="masked-secret-kept",
        proves="the mask sent back for a secret leaves the stored secret as it was",
        concerns=("PatchConfig", "UpdateConfig"),
        steps=(
            Step("GetConfig", keep="config", needs=_CONFIG_READABLE),
            Step("PatchConfig", body=_mask_for_secret),
            Step(
                "GetConfig",
                observe=(
                    Observation(
                        "the secret after PATCH sent its mask", "PatchConfig", _secret_reads
                    ),
                ),
            ),
            Step("UpdateConfig", body=_config_with_mask),
            Step(
                "GetConfig",
                observe=(
                    Observation(
                        "the secret after PUT sent its mask", "UpdateConfig", _secret_reads
                    ),
                ),
            ),
            Step("PatchConfig", body=_secret_emptied, clean_up=True),
        ),
    ),
    RequestSequence(
        name="reload-keeps-saved",
        proves="a config reload keeps what was saved, not what the server started with",
        concerns=("ReloadConfig",),
        steps=(
            *_MAX_USERS_CHANGED,
            Step("ReloadConfig"),
            Step(
                "GetConfig",
                observe=(
                    Observation(
                        f"{'.'.join(_MAX_USERS)} after the reload",
                        "ReloadConfig",
                        _setting(_MAX_USERS),
                    ),
                ),
            ),
            _MAX_USERS_BACK,
        ),
    ),
    RequestSequence(
        name="trial-once",
        proves="a server grants one trial license: the next request is refused",
        concerns=("RequestTrialLicense",),
        leaves_changed="license",
        steps=(
            Step("RequestTrialLicense", body=_constant(_TRIAL)),
            Step("RequestTrialLicense", body=_constant(_TRIAL)),
        ),
    ),
)


def sequence_named(name: str) -> RequestSequence | None:
    return next((s for s in SEQUENCES if s.name == name), None)


# -- choosing -------------------------------------------------------------------------------------
def choose_sequences(
    contract: Contract,
    sides: Sequence[SideFacts],
    callers: Iterable[str],
    *,
    selected: Iterable[str] = (),
    allow_destructive: bool = False,
    mail: bool = False,
) -> tuple[list[RequestSequence], dict[str, str]]:
    """The sequences to play and those left out with the reason: a sequence is played when it
    concerns an operation compared (any, without ``--operation``), both sides' versions have
    every operation it sends, both sides can be asked as every caller it needs, it sends no
    destructive operation unless allowed, and, for the email test, both sides can reach a mail
    server on this machine."""
    wanted = set(selected)
    have = set(callers)
    chosen: list[RequestSequence] = []
    skipped: dict[str, str] = {}
    for sequence in SEQUENCES:
        if wanted and not wanted & set(sequence.concerns):
            skipped[sequence.name] = f"concerns {', '.join(sequence.concerns)}, {NOT_SELECTED}"
            continue
        destructive = [op for op in sequence.operations if contract.operation(op).destructive]
        if destructive and not allow_destructive:
            skipped[sequence.name] = (
                f"sends {', '.join(destructive)} (x-mm-destructive): give --allow-destructive"
            )
            continue
        missing = [caller for caller in sequence.callers if caller not in have]
        if missing:
            skipped[sequence.name] = f"needs to call as {', '.join(missing)} on both sides" + (
                " (the local-mode socket)" if LOCAL in missing else ""
            )
            continue
        lacking = [
            f"{op} ({reason})"
            for op in sequence.operations
            for side in sides
            if (reason := contract.operation(op).unavailability(side.version)) is not None
        ]
        if lacking:
            skipped[sequence.name] = f"a side's version lacks {lacking[0]}"
            continue
        if sequence.needs_mail and not mail:
            skipped[sequence.name] = (
                "needs both sides on this machine's loopback, to reach the test mail server"
            )
            continue
        chosen.append(sequence)
    return chosen, skipped


# -- playing --------------------------------------------------------------------------------------
def step_request(
    contract: Contract, sequence: RequestSequence, index: int, body: Any
) -> RequestSpec:
    """The request of one step, its body made already (None: no body)."""
    step = sequence.steps[index]
    operation = contract.operation(step.operation)
    path = operation.path
    for name, value in step.path_params:
        path = path.replace("{" + name + "}", value)
    query = urlencode(step.query)
    headers: tuple[tuple[str, str], ...] = ()
    data: bytes | None = None
    if body is not None:
        headers = (("Content-Type", "application/json"),)
        data = json.dumps(body).encode()
    return RequestSpec(
        operation=step.operation,
        method=operation.method,
        target=f"{path}?{query}" if query else path,
        headers=headers,
        body=data,
        origin=f"sequence {sequence.name}, step {index + 1} of {len(sequence.steps)}: "
        + "; ".join(_outline(contract, step) for step in sequence.steps),
    )


def _outline(contract: Contract, step: Step) -> str:
    """A step in a few words: method, path, caller, and what is special about it."""
    operation = contract.operation(step.operation)
    path = operation.path.removeprefix("/api/v4")
    for name, value in step.path_params:
        path = path.replace("{" + name + "}", value)
    query = f"?{urlencode(step.query)}" if step.query else ""
    extra = " until it changes" if step.until is not None else ""
    extra += " (clean-up)" if step.clean_up else ""
    return f"{operation.method} {path}{query} as {step.caller}{extra}"


Send = Callable[[RequestSpec, str], Answer]
Scrub = Callable[[Answer], Answer]


def play(
    contract: Contract,
    sequence: RequestSequence,
    send: Send,
    context: SequenceContext,
    *,
    scrub: Scrub = lambda answer: answer,
    secrets: Mapping[str, Secret] | None = None,
) -> list[PlayedStep]:
    """Play ``sequence`` on one side (``send`` sends a request as a caller there). Every step
    is sent, in order; a step whose body needs an answer this side did not give is not sent
    (its answer says why). Observations read the answer after ``scrub``; what a step keeps is
    the answer as received (a config sent back must be the one the server showed). The
    requests played are given back with their bodies through the redactor (``secrets``): a
    body made from a server's answer may hold what no report should."""
    memory: Memory = {}
    played: list[PlayedStep] = []
    unmet: str | None = None
    for index, step in enumerate(sequence.steps):
        if unmet is not None and not step.clean_up:
            request = step_request(contract, sequence, index, None)
            answer = Answer(0, error=f"not sent: the side lacks {unmet}")
        else:
            request, answer = _send_step(contract, sequence, index, send, memory, context)
        if step.keep and answer.status == 200:
            memory[step.keep] = answer.json_body()
        found_unmet = None
        if step.needs is not None and unmet is None:
            try:
                met = step.needs.holds(answer, memory, context)
            except (LookupError, TypeError, ValueError, AttributeError):
                met = False
            if not met:
                unmet = found_unmet = (
                    f"{step.needs.what} (step {index + 1}, {_outline(contract, step)}, "
                    f"answered {answer.status or answer.error})"
                )
        shown = scrub(answer)
        observed: dict[str, Any] = {}
        for observation in step.observe:
            try:
                observed[observation.name] = observation.read(shown, memory, context)
            except (LookupError, TypeError, ValueError, AttributeError):
                observed[observation.name] = None
        if request.body:
            text = request.body.decode("utf-8", errors="replace")
            request = replace(request, body=redact(text, secrets or {}).encode("utf-8"))
        played.append(
            PlayedStep(index, request, step.caller, shown, observed, step.clean_up, found_unmet)
        )
    return played


def _send_step(
    contract: Contract,
    sequence: RequestSequence,
    index: int,
    send: Send,
    memory: Memory,
    context: SequenceContext,
) -> tuple[RequestSpec, Answer]:
    """Send one step (again until what it waits for holds); a step whose body needs an answer
    this side did not give is not sent, and its answer says why."""
    step = sequence.steps[index]
    try:
        body = step.body(memory, context) if step.body is not None else None
    except (LookupError, TypeError, AttributeError) as exc:
        request = step_request(contract, sequence, index, None)
        return request, Answer(0, error=f"not sent: its body needs an earlier answer ({exc})")
    request = step_request(contract, sequence, index, body)
    answer = send(request, step.caller)
    if step.until is not None:
        deadline = time.monotonic() + POLL_SECONDS
        while not step.until(answer, memory, context) and time.monotonic() < deadline:
            time.sleep(_POLL_INTERVAL)
            answer = send(request, step.caller)
    return request, answer
