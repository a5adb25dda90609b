"""The one way this package talks to GitLab: python-gitlab, configured from GitLab CI's variables.

CI_SERVER_URL and CI_PROJECT_ID are predefined in every job. GITLAB_API_TOKEN is a masked,
protected CI/CD variable holding a project access token (role Developer, scope `api`): the job
token cannot write notes, commits or merge requests. Nothing here is ever read from a file in git.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import gitlab
from gitlab.v4.objects import Project

from cloudctl.errors import CloudctlError

# The CI bot's commits carry this author name; .gitlab-ci.yml never starts a pipeline for them.
BOT_AUTHOR_NAME = "cloud-design-ci-bot"
BOT_AUTHOR_EMAIL = "cloud-design-ci-bot@noreply.invalid"
# GitLab skips the pipeline of a commit whose message holds this.
SKIP_CI = "[skip ci]"


@dataclass(frozen=True)
class GitLabTarget:
    url: str
    project_id: str
    token: str

    @classmethod
    def from_env(cls, url: str | None = None, project_id: str | None = None) -> GitLabTarget:
        url = url or os.environ.get("CI_SERVER_URL")
        project_id = project_id or os.environ.get("CI_PROJECT_ID")
        token = os.environ.get("GITLAB_API_TOKEN")
        if url and project_id and token:
            return cls(url=url, project_id=project_id, token=token)
        missing = [
            name
            for name, value in (
                ("CI_SERVER_URL", url),
                ("CI_PROJECT_ID", project_id),
                ("GITLAB_API_TOKEN", token),
            )
            if not value
        ]
        raise CloudctlError(f"missing {', '.join(missing)} (set in GitLab CI; export them to run locally)")


def connect(target: GitLabTarget) -> tuple[gitlab.Gitlab, Project]:
    """An authenticated client (gl.user is the token's user) and the project, fetched lazily."""
    client = gitlab.Gitlab(target.url, private_token=target.token, timeout=30, retry_transient_errors=True)
    with api_errors("authenticate"):
        client.auth()
    return client, client.projects.get(target.project_id, lazy=True)


@contextlib.contextmanager
def api_errors(doing: str) -> Iterator[None]:
    """Turn python-gitlab's and the network's errors into one line for the user."""
    try:
        yield
    except gitlab.exceptions.GitlabError as err:
        code = f"HTTP {err.response_code}: " if err.response_code else ""
        message = str(err.error_message).splitlines()[0] if err.error_message else type(err).__name__
        raise CloudctlError(f"GitLab API: cannot {doing}: {code}{message}") from err
    except OSError as err:  # requests' ConnectionError and timeouts derive from OSError
        raise CloudctlError(f"GitLab API: cannot {doing}: {err.__class__.__name__}: {err}") from err


def read_file(project: Project, path: str, ref: str) -> tuple[str, str]:
    """A file's text at `ref` and the id of the last commit that changed it (for optimistic locking)."""
    with api_errors(f"read {path} at {ref}"):
        remote = project.files.get(file_path=path, ref=ref)
    return remote.decode().decode("utf-8"), remote.last_commit_id


def commit_file(
    project: Project,
    *,
    branch: str,
    path: str,
    content: str,
    last_commit_id: str,
    message: str,
    start_branch: str | None = None,
) -> str:
    """Commit one file's new content as the CI bot; return the commit id.

    `last_commit_id` makes GitLab refuse the commit when someone changed the file in between, so a
    concurrent edit is never overwritten silently.
    """
    payload = {
        "branch": branch,
        "commit_message": message,
        "author_name": BOT_AUTHOR_NAME,
        "author_email": BOT_AUTHOR_EMAIL,
        "actions": [
            {"action": "update", "file_path": path, "content": content, "last_commit_id": last_commit_id}
        ],
    }
    if start_branch:
        payload["start_branch"] = start_branch
    with api_errors(f"commit {path} to {branch}"):
        return str(project.commits.create(payload).id)
