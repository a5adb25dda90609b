"""The MR-note publisher against a local stand-in for GitLab's API: one note per key, updated in place."""

from __future__ import annotations

import pytest
from cloudctl.delivery import gitlab_api, notes
from cloudctl.errors import CloudctlError
from fake_gitlab import TOKEN

NOTES = "/api/v4/projects/42/merge_requests/7/notes"
MARKER = "<!-- cloudctl:manifest-diff -->"


def note(note_id: int, body: str, author: int = 7, system: bool = False) -> dict:
    return {"id": note_id, "body": body, "author": {"id": author}, "system": system, "noteable_iid": 7}


def publish(body: str = "## Rendered diff\nno change", key: str = "manifest-diff"):
    client, project = gitlab_api.connect(gitlab_api.GitLabTarget.from_env())
    return notes.publish_note(client, project, 7, key, body)


def test_creates_the_note_when_none_carries_the_marker(gitlab_server):
    gitlab_server.reply("GET", NOTES, [note(1, "LGTM"), note(2, "a system note", system=True)])
    gitlab_server.reply("POST", NOTES, note(10, "created"), status=201)

    assert publish() == ("created", 10)

    assert gitlab_server.calls() == [("GET", "/api/v4/user"), ("GET", NOTES), ("POST", NOTES)]
    listing = gitlab_server.requests[1]
    assert listing.query["per_page"] == ["100"]
    post = gitlab_server.requests[2]
    assert post.body == {"body": f"{MARKER}\n## Rendered diff\nno change"}
    assert all(r.headers["PRIVATE-TOKEN"] == TOKEN for r in gitlab_server.requests)


def test_updates_its_own_note_in_place_found_on_a_later_page(gitlab_server):
    # Page 1 holds a reviewer's note quoting the marker: it must be left alone.
    gitlab_server.reply(
        "GET",
        NOTES,
        [note(3, f"why does {MARKER} show up?", author=99)],
        headers={"Link": "<{url}" + NOTES + '?page=2&per_page=100>; rel="next"'},
    )
    gitlab_server.reply("GET", NOTES, [note(4, f"{MARKER}\nold diff")])
    gitlab_server.reply("PUT", f"{NOTES}/4", note(4, "updated"))

    assert publish("new diff") == ("updated", 4)

    assert gitlab_server.calls() == [
        ("GET", "/api/v4/user"),
        ("GET", NOTES),
        ("GET", NOTES),
        ("PUT", f"{NOTES}/4"),
    ]
    assert gitlab_server.requests[2].query["page"] == ["2"]
    assert gitlab_server.requests[3].body == {"body": f"{MARKER}\nnew diff"}
    assert gitlab_server.calls("POST") == []


def test_sends_nothing_when_the_note_already_says_it(gitlab_server):
    gitlab_server.reply("GET", NOTES, [note(5, f"{MARKER}\nsame")])

    assert publish("same") == ("unchanged", 5)
    assert gitlab_server.calls("PUT") == [] and gitlab_server.calls("POST") == []


def test_different_keys_are_different_notes(gitlab_server):
    gitlab_server.reply("GET", NOTES, [note(6, f"{MARKER}\ndiff")])
    gitlab_server.reply("POST", NOTES, note(11, "created"), status=201)

    assert publish("plan output", key="terraform-plan") == ("created", 11)
    assert gitlab_server.requests[-1].body["body"].startswith("<!-- cloudctl:terraform-plan -->\n")


def test_a_rejected_token_is_one_clear_error(gitlab_server):
    gitlab_server.routes.clear()
    gitlab_server.reply("GET", "/api/v4/user", {"message": "401 Unauthorized"}, status=401)

    with pytest.raises(CloudctlError, match=r"cannot authenticate: HTTP 401"):
        publish()


def test_a_failed_update_is_one_clear_error(gitlab_server):
    gitlab_server.reply("GET", NOTES, [note(4, f"{MARKER}\nold")])
    gitlab_server.reply("PUT", f"{NOTES}/4", {"message": "403 Forbidden"}, status=403)

    with pytest.raises(CloudctlError, match=r"cannot update note 4 on merge request !7: HTTP 403"):
        publish("new")


def test_missing_ci_variables_are_named(monkeypatch):
    monkeypatch.delenv("GITLAB_API_TOKEN", raising=False)
    monkeypatch.setenv("CI_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    with pytest.raises(CloudctlError, match="missing GITLAB_API_TOKEN"):
        gitlab_api.GitLabTarget.from_env()


def test_oversized_and_malformed_inputs_are_refused_before_any_request(gitlab_server):
    with pytest.raises(CloudctlError, match="at most 1000000"):
        publish("x" * notes.MAX_NOTE_CHARS)
    with pytest.raises(CloudctlError, match="malformed note key"):
        publish("body", key="Bad Key")
    assert gitlab_server.calls() == [("GET", "/api/v4/user"), ("GET", "/api/v4/user")]
