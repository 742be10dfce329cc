"""The coaches' assignments page: set a client for a team to practise, see who has done it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError
from sqlmodel import Session

from app import assignments
from app.api.assignments import AssignmentId
from app.api.deps import CatalogDep, SessionDep
from app.assignments import AssignmentCreate
from app.catalog import DIFFICULTIES, LANGUAGES, Catalog
from app.errors import Invalid, ServiceError
from app.models import User, utcnow
from app.web.deps import CSRF_FIELD, ReviewerPage
from app.web.i18n import chosen_language
from app.web.pages import FormDep, redirect
from app.web.render import PageRoute, error_text, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/assignments")
def assignments_page(
    request: Request,
    user: ReviewerPage,
    catalog: CatalogDep,
    db: SessionDep,
    saved: int = 0,
    removed: int = 0,
) -> Response:
    return _page(request, user, catalog, db, saved=bool(saved), removed=bool(removed))


def _page(
    request: Request,
    user: User,
    catalog: Catalog,
    db: Session,
    *,
    saved: bool = False,
    removed: bool = False,
    error: str | None = None,
    status_code: int = 200,
    draft: dict[str, str] | None = None,
) -> Response:
    """The page; after a refused assignment, with the reason beside the form and the form as
    the coach filled it in (`draft`), not an error page that loses it."""
    lang = chosen_language(request)[0]
    return render(
        request,
        "assignments.html",
        user=user,
        status_code=status_code,
        items=assignments.listed(db=db, user=user),
        teams=assignments.settable_teams(db=db, user=user),
        personas=[(p.id, p.name(lang)) for p in catalog.persona_list],
        persona_names={p.id: p.name(lang) for p in catalog.persona_list},
        difficulties=DIFFICULTIES,
        languages=LANGUAGES,
        saved=saved,
        removed=removed,
        error=error,
        draft=draft or {},
        today=utcnow().date(),
    )


@router.post("/assignments")
def set_assignment(
    request: Request, user: ReviewerPage, catalog: CatalogDep, db: SessionDep, form: FormDep
) -> Response:
    fields = {k: v for k, v in form.items() if k != CSRF_FIELD and isinstance(v, str)}
    if not fields.get("due"):
        fields.pop("due", None)  # the date field left empty: no due date
    try:
        assignments.create(db=db, catalog=catalog, user=user, request=_validated(fields))
    except ServiceError as exc:
        db.rollback()
        text = error_text(exc, chosen_language(request)[0])
        return _page(
            request, user, catalog, db, error=text, status_code=exc.status_code, draft=fields
        )
    return redirect("/assignments?saved=1")


def _validated(fields: dict[str, str]) -> AssignmentCreate:
    try:
        return AssignmentCreate.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Invalid(f"the assignment is not valid: {error['loc'][0]}: {error['msg']}") from exc


@router.post("/assignments/{assignment_id}/delete")
def remove_assignment(assignment_id: AssignmentId, user: ReviewerPage, db: SessionDep) -> Response:
    assignments.delete(db=db, user=user, assignment_id=assignment_id)
    return redirect("/assignments?removed=1")
