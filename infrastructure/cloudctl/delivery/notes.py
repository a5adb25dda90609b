"""One merge-request note per purpose, updated in place on every push.

The note carries a hidden HTML marker (`<!-- cloudctl:<key> -->`). The publisher looks for a note
with that marker written by its own user (so a reviewer quoting the marker is never overwritten),
edits it when found and creates it otherwise.
"""

from __future__ import annotations

import re

import gitlab
from gitlab.v4.objects import Project

from cloudctl.delivery.gitlab_api import api_errors
from cloudctl.errors import CloudctlError

# GitLab rejects note bodies over 1,000,000 characters.
MAX_NOTE_CHARS = 1_000_000
KEY_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def marker(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise CloudctlError(f"malformed note key {key!r}: expected lowercase letters, digits and '-'")
    return f"<!-- cloudctl:{key} -->"


def publish_note(
    client: gitlab.Gitlab, project: Project, mr_iid: int, key: str, body: str
) -> tuple[str, int]:
    """Create or update the MR's note for `key`. Returns ("created"|"updated"|"unchanged", note id)."""
    full_body = f"{marker(key)}\n{body}"
    if len(full_body) > MAX_NOTE_CHARS:
        raise CloudctlError(
            f"note body is {len(full_body)} characters; GitLab accepts at most {MAX_NOTE_CHARS}"
        )
    if client.user is None:  # connect() authenticates, which sets it
        raise CloudctlError("GitLab: not authenticated, so this job's own notes cannot be told apart")
    me = client.user.id
    merge_request = project.mergerequests.get(mr_iid, lazy=True)
    with api_errors(f"list the notes of merge request !{mr_iid}"):
        existing = next(
            (
                note
                for note in merge_request.notes.list(
                    iterator=True, per_page=100, sort="asc", order_by="created_at"
                )
                if not note.system and note.author["id"] == me and marker(key) in note.body
            ),
            None,
        )
    if existing is None:
        with api_errors(f"create a note on merge request !{mr_iid}"):
            created = merge_request.notes.create({"body": full_body})
        return "created", created.id
    if existing.body == full_body:
        return "unchanged", existing.id
    existing.body = full_body
    with api_errors(f"update note {existing.id} on merge request !{mr_iid}"):
        existing.save()
    return "updated", existing.id
