"""A case's official documents: the archive listing and the PDF, byte for byte."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Response

from api.deps import AccessDep, ServicesDep
from api.errors import ApiError
from api.routes.cases import CaseId
from api.schemas.common import errors
from api.schemas.time import DocumentRead
from documents import issuing

router = APIRouter(prefix="/cases/{case_id}/documents", tags=["documents"])
DocumentId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("", response_model=list[DocumentRead], responses=errors(401, 404, 422),
            summary="案件的公文 / the documents issued (or received) on a case")
def list_documents(case_id: CaseId, access: AccessDep, services: ServicesDep) -> list[DocumentRead]:
    with services.db.read() as conn:
        access.load(conn, case_id)
    return [DocumentRead.model_validate(d, from_attributes=True) for d in issuing.of_case(services.db, case_id)]


@router.get("/{document_id}", response_class=Response, responses={
    200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
          "description": "the archived PDF; ETag is its SHA-256"},
    **errors(401, 404, 422)}, summary="下载公文 PDF / download a document")
def download_document(case_id: CaseId, document_id: DocumentId, access: AccessDep, services: ServicesDep) -> Response:
    with services.db.read() as conn:
        access.load(conn, case_id)
    found = issuing.fetch(services.db, document_id)
    if found is None or found[0].case_id != case_id:
        raise ApiError(404, "not_found", "未找到该公文", "no such document on this case")
    row, body = found
    name = quote(f"{row.number or row.title}.pdf")
    return Response(body, media_type=row.media_type, headers={
        "ETag": f'"{row.sha256}"', "Content-Disposition": f"inline; filename*=UTF-8''{name}"})
