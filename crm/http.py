"""Responses shared by pages and the API."""

import os

from django.http import FileResponse, Http404


def private_file_response(field_file) -> FileResponse:
    """Stream an uploaded file to a user the caller has already checked may see it.

    Uploads (qualification scans, later photos and contracts) are never served from a
    public media URL: every download goes through a view that applies the visibility
    rule, and no cache may keep a copy.
    """
    if not field_file:
        raise Http404
    try:
        handle = field_file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(handle, filename=os.path.basename(field_file.name))
    response["Cache-Control"] = "private, no-store"
    return response
