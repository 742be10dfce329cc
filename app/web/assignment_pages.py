"""The coaches' assignments page: set a client for a team to practise, see who has done it."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from app import assignments
from app.api.assignments import AssignmentId
from app.api.deps import CatalogDep, SessionDep
from app.assignments import AssignmentCreate
from app.catalog import DIFFICULTIES, LANGUAGES
from app.errors import Invalid
from app.models import utcnow
from app.web.deps import CSRF_FIELD, ReviewerPage
from app.web.i18n import chosen_language
from app.web.pages import FormDep, redirect
from app.web.render import PageRoute, render

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
    lang = chosen_language(request)[0]
    return render(
        request,
        "assignments.html",
        user=user,
        items=assignments.listed(db=db, user=user),
        teams=assignments.settable_teams(db=db, user=user),
        personas=[(p.id, p.name(lang)) for p in catalog.persona_list],
        persona_names={p.id: p.name(lang) for p in catalog.persona_list},
        difficulties=DIFFICULTIES,
        languages=LANGUAGES,
        saved=bool(saved),
        removed=bool(removed),
        today=utcnow().date(),
    )


@router.post("/assignments")
def set_assignment(
    user: ReviewerPage, catalog: CatalogDep, db: SessionDep, form: FormDep
) -> Response:
    fields = {k: v for k, v in form.items() if k != CSRF_FIELD and isinstance(v, str)}
    if not fields.get("due"):
        fields.pop("due", None)  # the date field left empty: no due date
    try:
        request = AssignmentCreate.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise Invalid(f"the assignment is not valid: {error['loc'][0]}: {error['msg']}") from exc
    assignments.create(db=db, catalog=catalog, user=user, request=request)
    return redirect("/assignments?saved=1")


@router.post("/assignments/{assignment_id}/delete")
def remove_assignment(assignment_id: AssignmentId, user: ReviewerPage, db: SessionDep) -> Response:
    assignments.delete(db=db, user=user, assignment_id=assignment_id)
    return redirect("/assignments?removed=1")
