"""Evidence files on a case: upload (size and type checked, hashed), list, download."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import Connection
from starlette.datastructures import UploadFile as StarletteUpload

from api import idempotency
from api.deps import AccessDep, ServicesDep
from api.errors import ApiError
from api.idempotency import IdempotencyKey, Reply
from api.routes.cases import CaseId
from api.schemas.attachments import AttachmentRead
from api.schemas.common import _check_str, errors
from db.settings import DEFAULT_ATTACHMENT_TYPES
from engine.thumbnails import IMAGE_TYPES, PREVIEWABLE, thumbnail_png

router = APIRouter(prefix="/cases/{case_id}/attachments", tags=["attachments"])
AttachmentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
# A file shown in the browser may load nothing and run nothing, and nothing may frame it. Chromium
# shows no PDF in a sandboxed document: a PDF may only embed itself (its viewer) instead.
FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox"
PDF_CSP = "default-src 'none'; object-src 'self'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'"


# The body is described here rather than declared as File()/Form() parameters: FastAPI reads declared
# form parameters before it runs the dependencies, so up to 20 MiB would be read before a 401.
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"},
                   "description": {"type": "string", "maxLength": 500}}}}}}}


def _bad_field(field: str, zh: str, en: str) -> ApiError:
    # Named as FastAPI names a declared form field, so clients see the same body as before.
    return ApiError(422, "validation_error", f"请求内容有误：body.{field}（{zh}）",
                    f"invalid request: body.{field} ({en})", field=f"body.{field}")


@router.post("", status_code=201, response_model=AttachmentRead, responses=errors(401, 403, 404, 413, 415, 422),
             openapi_extra=_UPLOAD_BODY,
             summary="上传佐证材料 / upload an evidence file (PDF, images, office files, text)")
async def upload(request: Request, case_id: CaseId, access: AccessDep, services: ServicesDep,
                 idempotency_key: IdempotencyKey = None) -> JSONResponse:
    # Authenticated by now (AccessDep): only then is the body read.
    form = await request.form(max_files=1, max_fields=10)
    file, description = form.get("file"), form.get("description", "")
    if not isinstance(file, StarletteUpload):
        raise _bad_field("file", "需要上传文件", "a file is required")
    if not isinstance(description, str) or len(description) > 500:
        raise _bad_field("description", "不超过500字", "at most 500 characters of text")
    try:
        _check_str(description)
    except ValueError as exc:
        raise _bad_field("description", "含有不能保存的字符", str(exc)) from None
    return await run_in_threadpool(_upload, case_id, access, services, file, description, idempotency_key)


def _upload(case_id: int, access, services, file: StarletteUpload, description: str,
            idempotency_key: str | None) -> JSONResponse:
    received = services.attachments.receive(file.file, file.filename)
    try:
        def action(conn: Connection) -> Reply:
            row = services.attachments.add(conn, access, case_id, received, description)
            return Reply(201, AttachmentRead.of(row).model_dump(mode="json"),
                         {"Location": f"/cases/{case_id}/attachments/{row.id}"})

        request_hash = idempotency.fingerprint("POST", f"/cases/{case_id}/attachments", received.sha256,
                                               received.filename, description)
        return idempotency.run(services, access.viewer, idempotency_key, request_hash, action)
    finally:
        received.discard()  # already moved to its place when kept


@router.get("", response_model=list[AttachmentRead], responses=errors(401, 404, 422),
            summary="案件的佐证材料 / the case's evidence files")
def list_attachments(case_id: CaseId, access: AccessDep, services: ServicesDep) -> list[AttachmentRead]:
    with services.db.read() as conn:
        return [AttachmentRead.of(a) for a in services.attachments.of_case(conn, access, case_id)]


@router.get("/{attachment_id}", response_class=Response, responses={
    200: {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                      for t in ("application/octet-stream", *DEFAULT_ATTACHMENT_TYPES)},
          "description": "the file, byte for byte, as the type its bytes are; ETag is its SHA-256"},
    **errors(401, 404, 422)}, summary="下载佐证材料 / download an evidence file")
def download(case_id: CaseId, attachment_id: AttachmentId, access: AccessDep, services: ServicesDep) -> FileResponse:
    with services.db.read() as conn:
        row, path = services.attachments.get(conn, access, case_id, attachment_id)
    if not path.is_file():
        raise ApiError(404, "file_missing", "文件已不在存储中，请联系管理员", "the stored file is missing",
                       sha256=row.sha256)
    # Only what a browser shows without running anything opens in it; the rest is saved to disk.
    how = "inline" if row.media_type in PREVIEWABLE else "attachment"
    disposition = f"{how}; filename=\"attachment-{row.id}\"; filename*=UTF-8''{quote(row.filename)}"
    return FileResponse(path, media_type=row.media_type, headers={
        "Content-Disposition": disposition, "ETag": f'"{row.sha256}"', "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": PDF_CSP if row.media_type == "application/pdf" else FILE_CSP})


@router.get("/{attachment_id}/thumbnail", response_class=Response, responses={
    200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
          "description": "a small PNG of an image file"}, **errors(401, 404)},
    summary="图片缩略图 / thumbnail of an image file")
def thumbnail(case_id: CaseId, attachment_id: AttachmentId, access: AccessDep, services: ServicesDep) -> Response:
    with services.db.read() as conn:
        row, path = services.attachments.get(conn, access, case_id, attachment_id)
    png = thumbnail_png(path) if row.media_type in IMAGE_TYPES and path.is_file() else None
    if png is None:
        raise ApiError(404, "no_thumbnail", "该材料没有缩略图", "this file has no thumbnail")
    return Response(png, media_type="image/png", headers={
        "ETag": f'"{row.sha256}-thumb"', "Content-Security-Policy": FILE_CSP})
