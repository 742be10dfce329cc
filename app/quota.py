"""How often one user may have a conversation graded by the model outside a session: each
grade is a paid call, and a chat file can be long. Counted in the database over the last
hour, so every replica of the server counts the same uses."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, delete, select

from app.models import ModelGradeUse, utcnow

WINDOW = timedelta(hours=1)


class HourlyQuota:
    """At most `limit` model grades per user in any hour."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def take(self, db: Session, user_id: int) -> int | None:
        """Count a use, or refuse it: None, or how many uses the last hour already holds.

        The use is stored and committed before it is counted, so two requests at once both
        see each other (at worst both are refused at the limit, never both let past it); a
        refused use is taken back. Uses older than the window are forgotten on the way."""
        now = utcnow()
        db.exec(delete(ModelGradeUse).where(col(ModelGradeUse.created_at) <= now - WINDOW))
        use = ModelGradeUse(user_id=user_id, created_at=now)
        db.add(use)
        db.commit()
        mine = select(func.count()).where(col(ModelGradeUse.user_id) == user_id)
        used = db.exec(mine).one()
        if used <= self.limit:
            db.commit()
            return None
        db.delete(use)
        db.commit()
        return used - 1
