"""Server logs and audits: paging with its defaults and caps, order, empty pages; POST /logs
by role and developer mode, and a posted line showing up in GET /logs where its level says it
should.

A live server keeps writing log lines and audits while a scenario reads them, so the paging
checks either retry until the log stood still between two reads, or hold only to what cannot
move (order, and that a later page is older).

What a scenario needs of the target (a log file, enough audits, a log that stands still) is
never measured through the paging it judges. File logging is read from the config; the audits
are counted in pages of a size no scenario judges, cross-checked against one larger page, and
made where too few (GET /audits is itself an audited request); a log that moves must move the
way new lines move it. Where those answers contradict each other the scenario fails; it skips
only when the target consistently lacks what it needs, and says what.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mmconform.contract import ANONYMOUS, PERMISSION_ERROR_ID, setting_value
from suites.scenarios.support_test import Verdict, poll

ClientFor = Callable[..., httpx.Client]
LOGS = "/logs"
AUDITS = "/audits"
LOGS_PER_PAGE_MAX = 10000
PER_PAGE_DEFAULT = 60
PER_PAGE_MAX = 200
PREFIX = "Client Logs API Endpoint Message: "
#: How long a posted line may take to reach GET /logs.
LOG_DELAY = 3.0
#: Attempts at reading two pages of a log or of the audits that stands still meanwhile.
ATTEMPTS = 5
#: The page size audits are counted in, and of the page that cross-checks the count: sizes no
#: scenario judges (they judge 60, 200, 7 and 5), so a server that gets those wrong cannot make
#: the count, and with it the scenario, come out short.
COUNT_PAGE = 50
CROSS_CHECK_PAGE = 150
#: The audited request a scenario makes when the target holds too few audits.
AUDITED = {"page": "0", "per_page": "1"}


def _marker(tag: str) -> str:
    return f"mmconform-{tag}-{uuid.uuid4().hex[:12]}"


def _log_lines(
    client: httpx.Client, verdict: Verdict, requirement: str | None = None, **params: int
) -> list[str]:
    response = verdict.record(client.get(LOGS, params={k: str(v) for k, v in params.items()}))
    verdict.status(response, 200, requirement=requirement, what="GET /logs")
    body = response.json()
    verdict.check(
        body is None or (isinstance(body, list) and all(isinstance(x, str) for x in body)),
        "a JSON array of log lines (or null for an empty page)",
        response=response,
        requirement=requirement,
    )
    return list(body or [])


def _require_file_logging(
    client: httpx.Client, verdict: Verdict, config: dict[str, Any], requirement: str | None = None
) -> None:
    """The target keeps a log file for GET /logs to read, as its config says (not as GET /logs
    says, which is what the scenarios judge): skip where LogSettings.EnableFile is off, fail
    where it is on and GET /logs answers as if it were off."""
    enabled = setting_value(config, ("LogSettings", "EnableFile"))
    if enabled is not True:
        pytest.skip(
            f"the target does not log to a file (GET /config: LogSettings.EnableFile is "
            f"{enabled!r}), so GET /logs has no log to page through; turn it on to have the "
            "logs requirements judged"
        )
    response = verdict.record(client.get(LOGS, params={"logs_per_page": "1"}))
    verdict.status(response, 200, requirement=requirement, what="GET /logs")
    verdict.check(
        response.json() != [""],
        "the log file's lines: LogSettings.EnableFile is on (GET /config)",
        received='[""], the answer of a server that keeps no log file',
        response=response,
        requirement=requirement,
    )


def _grew(before: list[str], after: list[str]) -> bool:
    """Whether ``after`` is what a page of the newest lines becomes once new lines are written
    after ``before`` was read: some of ``before``'s newest lines, then only lines it lacks."""
    for new in range(1, len(after) + 1):
        kept = after[: len(after) - new]
        if (not kept or before[len(before) - len(kept) :] == kept) and not set(
            after[len(after) - new :]
        ) & set(before):
            return True
    return False


def _post(client: httpx.Client, verdict: Verdict, level: str, message: str) -> httpx.Response:
    return verdict.record(client.post(LOGS, json={"level": level, "message": message}))


# --- GET /logs -----------------------------------------------------------------------------------


@pytest.mark.mm_operation("GetLogs", "PostLog", "GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config", "logs")
@pytest.mark.mm_requirement("logs.paging")
def test_log_pages_count_back_from_the_newest_line(
    admin_client: httpx.Client, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    """Page 0 holds the newest ``logs_per_page`` lines, oldest first; page 1 the ones before;
    the page size is capped at 10000; a page past the start of the log is empty."""
    _require_file_logging(admin_client, verdict, admin_config)
    for index in range(6):
        _post(admin_client, verdict, "ERROR", _marker(f"paging-{index}"))
    for _ in range(ATTEMPTS):
        both = _log_lines(admin_client, verdict, page=0, logs_per_page=6)
        newest = _log_lines(admin_client, verdict, page=0, logs_per_page=3)
        older = _log_lines(admin_client, verdict, page=1, logs_per_page=3)
        again = _log_lines(admin_client, verdict, page=0, logs_per_page=6)
        if both != again:
            # The log may have moved while the pages were read, but only as new lines move it.
            verdict.check(
                _grew(both, again),
                "two reads of the newest 6 lines to agree, or to differ only by lines written "
                "in between (older lines moving out, new ones coming in last)",
                received=f"first read: {both}\nsecond read: {again}",
            )
            continue
        verdict.check(
            len(both) == 6 and newest == both[3:] and older == both[:3],
            "page 0 of 3 lines = the newest 3 of the last 6 lines, page 1 = the 3 before "
            "them, each oldest first",
            received=f"last 6: {both}\npage 0: {newest}\npage 1: {older}",
        )
        break
    else:
        pytest.skip(
            f"the log grew by new lines during each of {ATTEMPTS} attempts (something else "
            "writes to it all the time); paging not judged"
        )
    capped = _log_lines(admin_client, verdict, logs_per_page=LOGS_PER_PAGE_MAX + 5000)
    verdict.check(
        len(capped) <= LOGS_PER_PAGE_MAX,
        f"at most {LOGS_PER_PAGE_MAX} lines however many are asked for",
        received=f"{len(capped)} lines",
    )
    empty = _log_lines(admin_client, verdict, page=10**6, logs_per_page=LOGS_PER_PAGE_MAX)
    verdict.check(not empty, "an empty page far past the start of the log", received=f"{empty[:3]}")


@pytest.mark.mm_operation("GetLogs", "PostLog", "GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config", "logs")
@pytest.mark.mm_requirement("logs.posted-line-appears")
def test_posted_line_appears_where_its_level_says(
    client_for: ClientFor, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    """An admin's ERROR is logged as an error and shows up in GET /logs; a user's ERROR
    (without developer mode) and an admin's DEBUG are debug lines, which a file level above
    DEBUG keeps out."""
    admin = client_for("system_admin")
    _require_file_logging(admin, verdict, admin_config)
    developer = setting_value(admin_config, ("ServiceSettings", "EnableDeveloper")) is True
    debug_kept = str(setting_value(admin_config, ("LogSettings", "FileLevel"))).upper() == "DEBUG"
    user_error, admin_debug, admin_error = _marker("user-error"), _marker("debug"), _marker("error")
    verdict.status(_post(client_for("system_user"), verdict, "ERROR", user_error), 200)
    verdict.status(_post(admin, verdict, "DEBUG", admin_debug), 200)
    verdict.status(_post(admin, verdict, "ERROR", admin_error), 200)
    last = poll(
        lambda: admin.get(LOGS, params={"logs_per_page": "2000"}),
        lambda r: admin_error in r.text,
        deadline=time.monotonic() + LOG_DELAY,
        interval=0.1,
    )
    verdict.check(
        admin_error in last.text,
        f"the admin's ERROR message {admin_error!r} in GET /logs within {LOG_DELAY:g} s",
        received=f"{len(last.json() or [])} lines without it",
        response=last,
    )
    for marker, kept, what in (
        (
            user_error,
            debug_kept or developer,
            "a user's ERROR (a debug line unless developer mode)",
        ),
        (admin_debug, debug_kept, "an admin's DEBUG"),
    ):
        verdict.check(
            (marker in last.text) == kept,
            f"{what} {'in' if kept else 'not in'} GET /logs at file level "
            f"{setting_value(admin_config, ('LogSettings', 'FileLevel'))}",
            received=f"{marker!r} {'found' if marker in last.text else 'absent'}",
            response=last,
        )


# --- POST /logs ----------------------------------------------------------------------------------


@pytest.mark.mm_operation("PostLog", "GetConfig")
@pytest.mark.mm_global_state("config", "logs")
@pytest.mark.mm_requirement("logs.post-gate", "errors.app-error-shape")
def test_post_log_by_role_and_developer_mode(
    client_for: ClientFor, admin_config: dict[str, Any], verdict: Verdict
) -> None:
    """Without developer mode a caller without a session is refused and users are heard; the
    posted map comes back with the message prefixed."""
    requirement = "logs.post-gate"
    developer = setting_value(admin_config, ("ServiceSettings", "EnableDeveloper")) is True
    anonymous = _post(client_for(ANONYMOUS), verdict, "INFO", _marker("anonymous"))
    if developer:
        verdict.status(anonymous, 200, requirement=requirement, what="anonymous, developer mode")
    else:
        verdict.app_error(
            anonymous,
            status=403,
            error_id=PERMISSION_ERROR_ID,
            requirement=requirement,
        )
    for role in ("system_user", "system_admin"):
        message = _marker(role)
        response = _post(client_for(role), verdict, "ERROR", message)
        verdict.status(response, 200, requirement=requirement, what=role)
        body = verdict.json_object(response, requirement=requirement)
        verdict.check(
            body.get("message") == PREFIX + message and body.get("level") == "ERROR",
            f"the posted map echoed, message prefixed with {PREFIX!r}",
            response=response,
            requirement=requirement,
        )


@pytest.mark.mm_operation("PostLog", "GetLogs", "PatchConfig", "GetConfig")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("config", "logs")
@pytest.mark.mm_requirement("logs.developer-mode")
@pytest.mark.usefixtures("config_guard")
def test_developer_mode_opens_post_log_to_everyone(client_for: ClientFor, verdict: Verdict) -> None:
    admin = client_for("system_admin")
    patch = {"ServiceSettings": {"EnableDeveloper": True}}
    verdict.status(verdict.record(admin.put("/config/patch", json=patch)), 200)
    response = _post(client_for(ANONYMOUS), verdict, "INFO", _marker("anonymous-dev"))
    verdict.status(response, 200, what="POST /logs without a session in developer mode")
    user_error = _marker("user-error-dev")
    verdict.status(_post(client_for("system_user"), verdict, "ERROR", user_error), 200)
    config = verdict.record(admin.get("/config"))
    verdict.status(config, 200, what="GET /config")
    _require_file_logging(admin, verdict, verdict.json_object(config))
    last = poll(
        lambda: admin.get(LOGS, params={"logs_per_page": "2000"}),
        lambda r: user_error in r.text,
        deadline=time.monotonic() + LOG_DELAY,
        interval=0.1,
    )
    verdict.check(
        user_error in last.text,
        f"a user's ERROR {user_error!r} logged as an error in developer mode",
        received="not in GET /logs",
        response=last,
    )


# --- audits --------------------------------------------------------------------------------------


def _audits_page(
    client: httpx.Client, verdict: Verdict, **params: int
) -> tuple[httpx.Response, list[dict[str, Any]]]:
    response = verdict.record(client.get(AUDITS, params={k: str(v) for k, v in params.items()}))
    verdict.status(response, 200, what="GET /audits")
    body = response.json()
    verdict.check(
        body is None or isinstance(body, list),
        "a JSON array of audits (or null for an empty page)",
        response=response,
    )
    return response, list(body or [])


def _audits(client: httpx.Client, verdict: Verdict, **params: int) -> list[dict[str, Any]]:
    return _audits_page(client, verdict, **params)[1]


def _audits_held(client: httpx.Client, verdict: Verdict, at_least: int) -> int:
    """How many audits the target holds (counted up to ``at_least``), read in pages of
    ``COUNT_PAGE`` until one comes back short, then cross-checked against one page of
    ``CROSS_CHECK_PAGE``. The scenario fails where those pages contradict each other: a full
    page that shows nothing new, or an audit older than the count's start that no page showed."""
    seen: set[str] = set()
    start: int | None = None  # create_at of the newest audit when the count began
    for page in range(at_least // COUNT_PAGE + 2):
        response, rows = _audits_page(client, verdict, page=page, per_page=COUNT_PAGE)
        ids = {str(row.get("id")) for row in rows}
        stamps = [row["create_at"] for row in rows if isinstance(row.get("create_at"), int)]
        if start is None and stamps:
            start = max(stamps)
        verdict.check(
            len(rows) < COUNT_PAGE or bool(ids - seen),
            f"page {page} of {COUNT_PAGE} audits to go on past the {len(seen)} audits the "
            "pages before it showed",
            received="only audits those pages had shown already",
            response=response,
        )
        seen |= ids
        if len(rows) < COUNT_PAGE:
            break
        if len(seen) >= at_least:
            return len(seen)
    response, rows = _audits_page(client, verdict, page=0, per_page=CROSS_CHECK_PAGE)
    hidden = [
        row
        for row in rows
        if str(row.get("id")) not in seen
        and isinstance(row.get("create_at"), int)
        and start is not None
        and row["create_at"] < start
    ]
    verdict.check(
        not hidden,
        f"the pages of {COUNT_PAGE} to have shown every audit the target held: they ended "
        f"after {len(seen)}",
        received=f"page 0 of {CROSS_CHECK_PAGE} shows {len(hidden)} older audits they did not",
        response=response,
    )
    return len(seen)


def _audits_made(client: httpx.Client, verdict: Verdict, at_least: int) -> int:
    """The audits the target holds, after making more with audited requests (GET /audits
    records one) where it held fewer than ``at_least``; skip, saying what was tried, when it
    still holds too few."""
    held = _audits_held(client, verdict, at_least)
    if held >= at_least:
        return held
    made = at_least - held
    for _ in range(made):
        client.get(AUDITS, params=AUDITED)
    held = _audits_held(client, verdict, at_least)
    if held < at_least:
        pytest.skip(
            f"the target holds {held} audits (counted in pages of {COUNT_PAGE}) after {made} "
            f"more audited requests (GET /audits); {at_least} are needed, and this server "
            "does not record those requests as audits"
        )
    return held


@pytest.mark.mm_operation("GetAudits")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("audits.paging-limits")
def test_audit_pages_default_to_60_and_stop_at_200(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    """Needs more than 200 audits, counted without the paging it judges (pages of 50); on a
    target with fewer it makes audited requests until there are."""
    _audits_made(admin_client, verdict, at_least=PER_PAGE_MAX + 1)
    for params, wanted in (
        ({}, PER_PAGE_DEFAULT),
        ({"per_page": -1}, PER_PAGE_DEFAULT),
        ({"per_page": PER_PAGE_MAX + 300}, PER_PAGE_MAX),
        ({"per_page": 7}, 7),
    ):
        found = len(_audits(admin_client, verdict, **params))
        verdict.check(
            found == wanted,
            f"{wanted} audits for {params or 'no paging parameters'} (the target holds more "
            f"than {PER_PAGE_MAX})",
            received=f"{found} audits",
        )


@pytest.mark.mm_operation("GetAudits")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("audits.newest-first")
def test_audits_come_newest_first_and_pages_move_back_in_time(
    admin_client: httpx.Client, verdict: Verdict
) -> None:
    held = _audits_made(admin_client, verdict, at_least=6)
    # Other tests (another worker, on a shared target) may add audits between the two pages,
    # which shifts page 1 towards newer audits; read again until page 0 held still meanwhile.
    for _ in range(ATTEMPTS):
        first = _audits(admin_client, verdict, page=0, per_page=5)
        second_response, second = _audits_page(admin_client, verdict, page=1, per_page=5)
        again = _audits(admin_client, verdict, page=0, per_page=5)
        if [row.get("id") for row in again] == [row.get("id") for row in first]:
            break
    verdict.check(
        len(first) == 5 and bool(second),
        f"page 0 of 5 audits full and page 1 not empty: the target holds at least {held} "
        f"(counted in pages of {COUNT_PAGE})",
        received=f"{len(first)} audits on page 0, {len(second)} on page 1",
        response=second_response,
    )
    for page, rows in (("0", first), ("1", second)):
        stamps = [row.get("create_at") for row in rows]
        numbers = [s for s in stamps if isinstance(s, int)]
        verdict.check(
            len(numbers) == len(stamps) and numbers == sorted(numbers, reverse=True),
            f"page {page} newest first (create_at not increasing)",
            received=f"create_at {stamps}",
        )
    oldest_first_page = min(row["create_at"] for row in first)
    verdict.check(
        all(row["create_at"] <= oldest_first_page for row in second),
        "page 1 no newer than page 0",
        received=f"page 0 down to {oldest_first_page}, page 1 {[r['create_at'] for r in second]}",
    )
    verdict.check(
        {row.get("id") for row in second} - {row.get("id") for row in first} != set(),
        "page 1 to hold other audits than page 0",
        received=f"the same ids: {[row.get('id') for row in second]}",
    )
    empty = _audits(admin_client, verdict, page=10**6, per_page=PER_PAGE_MAX)
    verdict.check(not empty, "an empty page past the oldest audit", received=f"{empty[:2]}")
