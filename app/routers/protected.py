"""/api/protected: proves a request carries a valid access token."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import CurrentUser
from app.errors import documented
from app.request_body import StrictJSONRoute
from app.schemas import ProtectedRead

router = APIRouter(prefix="/api", tags=["protected"], route_class=StrictJSONRoute)


@router.get("/protected", responses=documented(401))
def protected(current: CurrentUser) -> ProtectedRead:
    return ProtectedRead(subject=str(current.id), user_id=current.id, email=current.email)
