"""The pages: login, practice (persona cards, the conversation, the report card, history)
and, for coaches, the desk, the review page and the grader–coach agreement.

Thin like the API routers: each reads the request, calls the services (sessions, reviews,
history, auth) and renders a template; no SQL here. Form posts carry the CSRF token.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData

from app import assignments, auth, grades, history, reviews
from app import sessions as service
from app.api.deps import (
    COOKIE_NAME,
    DEVICE_COOKIE,
    CatalogDep,
    EnginesDep,
    LimitsDep,
    SessionDep,
    SettingsDep,
    client_address,
    cookie_scheme,
    current_user,
    logged_in,
)
from app.catalog import DIFFICULTIES, LANGUAGES, Catalog, Language, Mood, Phase
from app.config import Settings
from app.engine.grader import PASS_SCORE, Criterion, TranscriptMessage
from app.errors import Invalid, TooMany, Unauthorized, Upstream
from app.models import (
    CriterionPublic,
    Message,
    PracticeSession,
    SessionCreate,
    SessionOutcome,
    User,
    utcnow,
)
from app.reviews import VERDICTS, DeskFilters, ReviewCreate, ReviewPublic, SessionReviews
from app.web.deps import CSRF_FIELD, PageUser, ReviewerPage
from app.web.i18n import Translator, chosen_language, strings
from app.web.render import PageRoute, render
from app.web.view import MeterGauge, evidence_by_message, line_chart, meter_gauge, segments

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LOGIN_COOKIE = "sparring_login"  # double-submit token for the login form (no session yet)
DESK_PAGE_SIZE = 25
HISTORY_PAGE_SIZE = 50
UNFINISHED_SHOWN = 5  # on the Practise page; the rest are in the progress page
OUTCOMES: tuple[str, ...] = get_args(SessionOutcome)
MOODS: tuple[str, ...] = get_args(Mood)
PHASES: tuple[str, ...] = get_args(Phase)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never another host after logging in."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def page_translator(request: Request) -> Translator:
    return Translator(chosen_language(request)[0])


async def read_form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


# ---------------------------------------------------------------- logging in and out


def _login_form(
    request: Request,
    settings: Settings,
    *,
    next_url: str,
    error: str | None = None,
    status_code: int = 200,
    username: str = "",
) -> Response:
    """`username`: the name tried, kept after a wrong password so only that is typed again."""
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        user=None,
        status_code=status_code,
        login_token=token,
        next_url=next_url,
        error=error,
        username=username,
    )
    response.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    return response


@router.get("/login")
def login_page(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    cookie: Annotated[str | None, Depends(cookie_scheme)],
    next: str = "/",
) -> Response:
    try:
        current_user(request, db, None, cookie)
        return redirect(safe_next(next))
    except Unauthorized:
        return _login_form(request, settings, next_url=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    t = page_translator(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not secrets.compare_digest(expected.encode(), csrf_token.encode()):
        return _login_form(
            request, settings, next_url=safe_next(next), error=t("login.expired"), status_code=403
        )
    try:
        user = auth.authenticate(
            db=db,
            username=username,
            password=password,
            address=client_address(request),
            device=request.cookies.get(DEVICE_COOKIE),
        )
    except (TooMany, Unauthorized) as exc:
        locked = isinstance(exc, TooMany)
        return _login_form(
            request,
            settings,
            next_url=safe_next(next),
            error=t("login.locked" if locked else "login.wrong"),
            status_code=429 if locked else 401,
            username=username,
        )
    response = redirect(safe_next(next))
    logged_in(request, response, db, user, settings)
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(
    user: PageUser,
    db: SessionDep,
    cookie: Annotated[str | None, Depends(cookie_scheme)],
) -> Response:
    if cookie:
        auth.close_web_session(db=db, cookie=cookie)
    response = redirect("/login")
    response.delete_cookie(COOKIE_NAME)
    return response


@router.get("/")
def home(user: PageUser) -> Response:
    return redirect("/practice" if user.role == "trainee" else "/desk")


# ---------------------------------------------------------------- practising


def _technique_name(catalog: Catalog, technique_id: str, lang: Language, fallback: str) -> str:
    technique = catalog.techniques.get(technique_id)
    return technique.name(lang) if technique else fallback


@router.get("/practice")
def practice(
    request: Request,
    user: PageUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
) -> Response:
    lang, _ = chosen_language(request)
    cards = [
        {
            "id": p.id,
            "name": p.name(lang),
            "title": p.title(lang),
            "situation": p.situation(lang),
            "role": p.trainee_role(lang),
            "goal": p.goal(lang),
            "levels": [
                {
                    "level": level,
                    "description": p.difficulty[level].description(lang),
                    "turns": p.difficulty[level].turn_limit,
                }
                for level in DIFFICULTIES
            ],
            "techniques": [
                catalog.techniques[t].name(lang) for t in p.techniques if t in catalog.techniques
            ],
        }
        for p in catalog.persona_list
    ]
    return render(
        request,
        "practice.html",
        user=user,
        cards=cards,
        difficulties=DIFFICULTIES,
        languages=LANGUAGES,
        engines=sorted(engines.available),
        default_engine=engines.default,
        # a trainee's own part of their teams' assignments (coaches follow them on their page)
        assigned=assignments.listed(db=db, user=user) if user.role == "trainee" else [],
        persona_names={p.id: p.name(lang) for p in catalog.persona_list},
        today=utcnow().date(),
        # one's own conversations left open, so they are found again instead of piling up
        unfinished=service.list_sessions(
            db=db, user=user, status="active", trainee=user.username, page_size=UNFINISHED_SHOWN
        ),
    )


@router.post("/practice")
def start(
    user: PageUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    limits: LimitsDep,
    persona_id: Annotated[str, Form(max_length=64)],
    difficulty: Annotated[str, Form(max_length=8)] = "medium",
    language: Annotated[str, Form(max_length=2)] = "it",
    engine: Annotated[str | None, Form(max_length=16)] = None,
) -> Response:
    try:
        body = SessionCreate.model_validate(
            {
                "persona_id": persona_id,
                "difficulty": difficulty,
                "language": language,
                "engine": engine or None,
            }
        )
    except ValidationError as exc:
        raise Invalid(f"cannot start this session: {exc.errors()[0]['msg']}") from exc
    record, _ = service.start(
        db=db, catalog=catalog, engines=engines, user=user, request=body, limits=limits
    )
    return redirect(f"/sessions/{record.id}")


def _meters(catalog: Catalog, record: PracticeSession, t: Translator) -> list[MeterGauge]:
    state = service.state_public(catalog, record)
    return [
        meter_gauge(meter, t.maybe(f"meter.{meter}", meter.replace("_", " ")), value)
        for meter, value in state.meters.items()
    ]


def _message_view(message: Message | TranscriptMessage) -> dict[str, Any]:
    return {
        "seq": message.seq,
        "role": message.role,
        "content": message.content,
        # a conversation recorded elsewhere has only whole messages
        "status": message.status if isinstance(message, Message) else "complete",
        "moves": message.moves if isinstance(message, Message) else [],
    }


@router.get("/sessions/{session_id}")
def conversation(
    request: Request,
    session_id: str,
    user: PageUser,
    catalog: CatalogDep,
    db: SessionDep,
    limits: LimitsDep,
) -> Response:
    record, messages, _ = service.get(db=db, user=user, session_id=session_id)
    if record.status != "active" or record.user_id != user.id:
        return redirect(f"/sessions/{session_id}/report")
    t = page_translator(request)
    lang = t.lang
    persona = catalog.personas[record.persona_id]
    state = service.state_public(catalog, record)
    js_strings = {
        key: t(f"chat.{key}")
        for key in (
            "client", "you", "typing", "ended", "error", "sending", "cut", "see_report", "heard",
            "heard_nothing", "confirm_end",
        )
    }  # fmt: skip
    js_strings["outcome"] = t("report.outcome")
    js_strings |= {f"move.{m}": t(f"move.{m}") for m in catalog.moves}
    js_strings |= {key: t(key) for key in strings() if key.startswith("error_code.")}
    js_strings |= {f"mood.{m}": t(f"mood.{m}") for m in MOODS}
    js_strings |= {f"phase.{p}": t(f"phase.{p}") for p in PHASES}
    js_strings |= {f"outcome.{o}": t(f"outcome.{o}") for o in OUTCOMES}
    return render(
        request,
        "chat.html",
        user=user,
        record=record,
        persona_name=persona.name(lang),
        persona_title=persona.title(lang),
        persona_goal=persona.goal(lang),
        techniques=[
            {"name": technique.name(lang), "description": technique.description(lang)}
            for technique in (catalog.techniques[t] for t in persona.techniques)
        ],
        state=state,
        meters=_meters(catalog, record, t),
        messages=[_message_view(m) for m in messages],
        max_chars=limits.max_message_chars,
        js_strings=js_strings,
    )


@router.post("/sessions/{session_id}/say")
def say(
    session_id: str,
    user: PageUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    limits: LimitsDep,
    content: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The conversation without JavaScript: one turn, then back to the page."""
    service.say(
        db=db,
        catalog=catalog,
        engines=engines,
        user=user,
        session_id=session_id,
        content=content,
        limits=limits,
    )
    return redirect(f"/sessions/{session_id}#compose")


@router.post("/sessions/{session_id}/end")
def end(
    session_id: str, user: PageUser, catalog: CatalogDep, engines: EnginesDep, db: SessionDep
) -> Response:
    # a failed grade is stored with its reason; the report card offers to grade again
    with contextlib.suppress(Upstream):
        service.end(db=db, catalog=catalog, engines=engines, user=user, session_id=session_id)
    return redirect(f"/sessions/{session_id}/report")


@router.post("/sessions/{session_id}/discard")
def discard(session_id: str, user: PageUser, db: SessionDep) -> Response:
    service.discard(db=db, user=user, session_id=session_id)
    return redirect("/practice")


@router.post("/sessions/{session_id}/grade")
def regrade(
    session_id: str,
    user: PageUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
    then: Annotated[Literal["report", "review"], Form()] = "report",
) -> Response:
    """Grade an ended session: again after a failure, or for the first time when it was left
    before its grade; back to the report card, or to the review desk a coach graded it from."""
    with contextlib.suppress(Upstream):
        grades.regrade(db=db, catalog=catalog, engines=engines, user=user, session_id=session_id)
    return redirect(f"/desk/{session_id}" if then == "review" else f"/sessions/{session_id}/report")


def criteria_view(
    catalog: Catalog, criteria: Sequence[CriterionPublic | Criterion], lang: Language
) -> list[dict[str, Any]]:
    return [
        {
            "id": c.technique_id,
            "name": _technique_name(catalog, c.technique_id, lang, c.name),
            "verdict": c.verdict,
            "evidence": c.evidence,
            "rationale": c.rationale,
            "better": c.better_phrasing,
            "flagged": c.flagged,
        }
        for c in criteria
    ]


def transcript_view(
    messages: Sequence[Message | TranscriptMessage],
    criteria: Sequence[CriterionPublic | Criterion],
) -> list[dict[str, Any]]:
    quotes = evidence_by_message(criteria)
    return [
        {**_message_view(m), "segments": segments(m.content, quotes.get(m.seq, []))}
        for m in messages
    ]


def _comments(
    review: SessionReviews,
) -> tuple[dict[str, list[ReviewPublic]], dict[int, list[ReviewPublic]]]:
    """Coaches' comments by technique and by message."""
    by_technique: dict[str, list[ReviewPublic]] = {}
    by_message: dict[int, list[ReviewPublic]] = {}
    for comment in review.comments:
        if comment.message_seq is not None:
            by_message.setdefault(comment.message_seq, []).append(comment)
        elif comment.technique_id:
            by_technique.setdefault(comment.technique_id, []).append(comment)
    return by_technique, by_message


def _graded_session(
    request: Request, catalog: Catalog, db: Session, user: User, session_id: str
) -> tuple[SessionReviews, dict[str, Any]]:
    """What the report and the review desk both show: the session, its grade, the transcript
    with the evidence marked, and the coaches' comments, in the reader's language."""
    record, messages, graded = service.get(db=db, user=user, session_id=session_id)
    lang = chosen_language(request)[0]
    grade = grades.grade_public(*graded) if graded else None
    criteria = grade.criteria if grade and grade.status == "done" else []
    review = reviews.session_reviews(db=db, user=user, session_id=session_id)
    technique_comments, message_comments = _comments(review)
    persona = catalog.personas[record.persona_id]
    return review, {
        "user": user,
        "record": record,
        "persona_name": persona.name(lang),
        "persona_title": persona.title(lang),
        "grade": grade,
        "criteria": criteria_view(catalog, criteria, lang),
        "transcript": transcript_view(messages, criteria),
        "technique_comments": technique_comments,
        "message_comments": message_comments,
    }


@router.get("/sessions/{session_id}/report")
def report(
    request: Request,
    session_id: str,
    user: PageUser,
    catalog: CatalogDep,
    engines: EnginesDep,
    db: SessionDep,
) -> Response:
    review, shown = _graded_session(request, catalog, db, user, session_id)
    record = shown["record"]
    coach_verdicts: dict[str, list[Any]] = {}
    for verdict in review.verdicts:
        coach_verdicts.setdefault(verdict.technique_id, []).append(verdict)
    return render(
        request,
        "report.html",
        **shown,
        coach_verdicts=coach_verdicts,
        is_owner=record.user_id == user.id,
        can_review=user.role in ("coach", "admin") and record.user_id != user.id,
        # the same client, level and language; the same engine while this server still has it
        again_engine=record.engine if record.engine in engines.available else None,
        csv_href="/api/exports/grades.csv?" + urlencode({"session": record.id}),
    )


@router.get("/history")
def history_page(
    request: Request,
    user: PageUser,
    catalog: CatalogDep,
    db: SessionDep,
    page: int = 1,
) -> Response:
    lang = chosen_language(request)[0]
    points = history.score_history(db=db, user=user)
    names = {p.id: p.name(lang) for p in catalog.persona_list}
    labels = [f"{p.created_at:%Y-%m-%d} · {names.get(p.persona_id, p.persona_id)}" for p in points]
    hrefs = [f"/sessions/{p.session_id}/report" for p in points]
    scores = [
        (p.score, f"{label}: {p.score}", href)
        for p, label, href in zip(points, labels, hrefs, strict=True)
    ]
    # A phone shrinks a wide chart's labels and dots to a few pixels: it gets one drawn to its size.
    span = (
        (f"{points[0].created_at:%Y-%m-%d}", f"{points[-1].created_at:%Y-%m-%d}")
        if points
        else None
    )
    overall = line_chart(scores, pass_mark=PASS_SCORE, height=214, span=span)
    overall_narrow = line_chart(scores, pass_mark=PASS_SCORE, width=340, height=214, span=span)
    seen = [t for p in points for t in p.techniques]
    technique_charts = []
    for technique in [t for t in catalog.techniques if t in seen]:
        values = [p.techniques.get(technique) for p in points]
        if all(v is None for v in values):
            continue
        technique_charts.append(
            {
                "id": technique,
                "name": catalog.techniques[technique].name(lang),
                "graded": sum(v is not None for v in values),
                "last": next(v for v in reversed(values) if v is not None),
                "chart": line_chart(
                    [
                        (v, f"{label}: {v}", href)  # None: no point, no label
                        for v, label, href in zip(values, labels, hrefs, strict=True)
                    ],
                    width=300,
                    height=110,
                ),
            }
        )
    page = max(page, 1)
    records, total = service.list_sessions(
        db=db, user=user, trainee=user.username, page=page, page_size=HISTORY_PAGE_SIZE
    )
    return render(
        request,
        "history.html",
        user=user,
        points=points,
        labels=labels,
        overall=overall,
        overall_narrow=overall_narrow,
        technique_charts=technique_charts,
        records=records,
        reviewed=reviews.reviewed(db=db, session_ids=[r.id for r in records]),
        persona_names=names,
        page=page,
        pages=max(1, -(-total // HISTORY_PAGE_SIZE)),
        total=total,
    )


# ---------------------------------------------------------------- coaching


def _int(value: str | None, low: int = 0, high: int = 100) -> int | None:
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    return max(low, min(high, number))


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def _grades_csv(filters: DeskFilters) -> str:
    """The CSV export of grades, with the desk's filters that the export understands."""
    query = {
        "trainee": filters.trainee,
        "persona": filters.persona_id,
        "status": filters.status,
    }
    kept = {k: v for k, v in query.items() if v}
    return "/api/exports/grades.csv" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/desk")
def desk(
    request: Request,
    user: ReviewerPage,
    catalog: CatalogDep,
    db: SessionDep,
    trainee: str | None = None,
    persona: str | None = None,
    status: str | None = None,
    reviewed: str | None = None,
    score_min: str | None = None,
    score_max: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: str | None = None,
) -> Response:
    lang = chosen_language(request)[0]
    filters = DeskFilters(
        trainee=trainee or None,
        persona_id=persona if persona in catalog.personas else None,
        status=status if status in ("active", "ended") else None,
        reviewed={"yes": True, "no": False}.get(reviewed or ""),
        score_min=_int(score_min),
        score_max=_int(score_max),
        date_from=_date(date_from),
        date_to=_date(date_to),
    )
    number = _int(page, 1, 100_000) or 1
    result = reviews.desk(db=db, user=user, filters=filters, page=number, page_size=DESK_PAGE_SIZE)
    query = {
        "trainee": filters.trainee or "",
        "persona": filters.persona_id or "",
        "status": filters.status or "",
        "reviewed": reviewed if filters.reviewed is not None else "",
        "score_min": "" if filters.score_min is None else str(filters.score_min),
        "score_max": "" if filters.score_max is None else str(filters.score_max),
        "date_from": filters.date_from.isoformat() if filters.date_from else "",
        "date_to": filters.date_to.isoformat() if filters.date_to else "",
    }
    active = {k: v for k, v in query.items() if v}
    pages = max(1, -(-result.total // DESK_PAGE_SIZE))
    return render(
        request,
        "desk.html",
        user=user,
        rows=result.items,
        total=result.total,
        page=number,
        pages=pages,
        page_href=lambda n: "/desk?" + urlencode({**active, "page": n}),
        query=query,
        trainees=reviews.desk_trainees(db=db, user=user),
        personas=[(p.id, p.name(lang)) for p in catalog.persona_list],
        persona_names={p.id: p.name(lang) for p in catalog.persona_list},
        csv_href=_grades_csv(filters),
    )


@router.get("/desk/{session_id}")
def review_page(
    request: Request,
    session_id: str,
    user: ReviewerPage,
    catalog: CatalogDep,
    db: SessionDep,
    saved: int = 0,
) -> Response:
    review, shown = _graded_session(request, catalog, db, user, session_id)
    mine = {v.technique_id: v.coach_verdict for v in review.verdicts if v.reviewer_id == user.id}
    others: dict[str, list[Any]] = {}
    for verdict in review.verdicts:
        if verdict.reviewer_id != user.id:
            others.setdefault(verdict.technique_id, []).append(verdict)
    return render(
        request,
        "review.html",
        **shown,
        mine=mine,
        others=others,
        verdicts=VERDICTS,
        own=shown["record"].user_id == user.id,
        saved=bool(saved),
    )


@router.post("/desk/{session_id}")
def save_review(session_id: str, user: ReviewerPage, db: SessionDep, form: FormDep) -> Response:
    verdicts: dict[str, str] = {}
    technique_comments: dict[str, str] = {}
    message_comments: dict[str, str] = {}
    # The page posts every field at once: a verdict left on "no verdict" (empty) and a blank
    # comment box say nothing, so an untouched technique never reads as agreeing.
    for key, value in form.multi_items():
        if not isinstance(value, str) or key == CSRF_FIELD:
            continue
        kind, _, name = key.partition(":")
        if kind == "verdict" and value:
            verdicts[name] = value
        elif kind == "comment":
            technique_comments[name] = value
        elif kind == "message" and value.strip():
            message_comments[name] = value
    try:
        body = ReviewCreate.model_validate(
            {
                "verdicts": verdicts,
                "criterion_comments": technique_comments,
                "message_comments": message_comments,
            }
        )
    except ValidationError as exc:
        raise Invalid(f"the review is not valid: {exc.errors()[0]['msg']}") from exc
    reviews.save_review(db=db, user=user, session_id=session_id, request=body)
    return redirect(f"/desk/{session_id}?saved=1")


@router.get("/agreement")
def agreement(
    request: Request, user: ReviewerPage, catalog: CatalogDep, db: SessionDep, mine: int = 0
) -> Response:
    lang = chosen_language(request)[0]
    result = reviews.agreement(db=db, user=user, reviewer_id=user.id if mine else None)
    names = {
        row.technique_id: _technique_name(catalog, row.technique_id, lang, row.technique_id)
        for row in result.techniques
        if row.technique_id
    }
    return render(request, "agreement.html", user=user, result=result, names=names, mine=bool(mine))
