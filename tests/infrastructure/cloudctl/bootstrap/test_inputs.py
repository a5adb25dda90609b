"""The inputs git does not hold (--repo-url, --admin-cidr, --revision, --config): each refusal is one
line before anything runs (STAND-IN binaries record that nothing ran)."""

from __future__ import annotations

import pytest
from cloudctl_fakes import ADMIN_CIDR, REPO_URL


def up(run, repo, *args):
    return run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *args)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://gitlab.com/acme/movies.git", "use an https:// or ssh (git@host:path) URL"),
        ("gitlab.com/acme/movies.git", "use an https:// or ssh (git@host:path) URL"),
        ("file:///srv/git/movies.git", "use an https:// or ssh (git@host:path) URL"),
        ("https://gitlab.com/", "names no host and repository path"),
        ("https://example.com/acme/movies.git", "example.com is a documentation placeholder"),
        ("https://gitlab.example.org/acme/movies.git", "gitlab.example.org is a documentation placeholder"),
        ("git@git.example.net:acme/movies.git", "git.example.net is a documentation placeholder"),
        ("https://gitlab.invalid/acme/movies.git", "gitlab.invalid is a documentation placeholder"),
        ("ssh://git@code.example/acme/movies.git", "code.example is a documentation placeholder"),
        ("https://gitlab.com/cloud-design/cloud-design.git", "the template's placeholder repository"),
        ("git@gitlab.com:cloud-design/cloud-design.git", "the template's placeholder repository"),
        ("https://GitLab.com/cloud-design/cloud-design", "the template's placeholder repository"),
    ],
)
def test_a_repository_url_that_cannot_be_ours_is_refused(run, repo, standins, ssm, url, why):
    result = up(run, repo, "--repo-url", url, "--admin-cidr", ADMIN_CIDR)

    assert result.code == 1
    assert result.err.startswith(f"cloudctl up: error: --repo-url {url}: {why}")
    assert result.err.count("\n") == 1
    assert standins.calls() == [] and "==>" not in result.out


def test_credentials_in_the_url_are_refused_so_they_never_reach_the_cluster(run, repo, standins, ssm):
    result = up(
        run,
        repo,
        "--repo-url",
        "https://bot:glpat-secret@gitlab.com/acme/movies.git",
        "--admin-cidr",
        ADMIN_CIDR,
    )

    assert result.code == 1
    assert "glpat-secret" not in result.err
    assert "set CLOUDCTL_GIT_USERNAME and CLOUDCTL_GIT_PASSWORD instead" in result.err
    assert standins.calls() == []


@pytest.mark.parametrize(
    ("cidr", "why"),
    [
        ("my-laptop", "not a CIDR"),
        ("10.0.0.0/33", "not a CIDR"),
        ("0.0.0.0/0", "opens the Kubernetes API to the whole internet"),
        ("::/0", "opens the Kubernetes API to the whole internet"),
        ("2001:db8::1/128", "must be IPv4"),
        ("203.0.113.10/32", "lies in the documentation range 203.0.113.0/24"),
        ("198.51.100.0/24", "lies in the documentation range 198.51.100.0/24"),
        ("192.0.2.128/25", "lies in the documentation range 192.0.2.0/24"),
    ],
)
def test_an_admin_cidr_nobody_can_come_from_is_refused(run, repo, standins, ssm, cidr, why):
    result = up(run, repo, "--repo-url", REPO_URL, "--admin-cidr", cidr)

    assert result.code == 1
    assert result.err.startswith(f"cloudctl up: error: --admin-cidr {cidr}: {why}")
    assert result.err.count("\n") == 1
    assert standins.calls() == []


@pytest.mark.parametrize(
    ("url", "cidr"),
    [
        ("git@gitlab.com:acme/movies.git", "198.18.7.42/32"),
        ("ssh://git@gitlab.acme.io:2222/platform/movies.git", "192.0.3.0/24"),  # next to TEST-NET-1
        ("https://gitlab.acme.io/platform/movies", "203.0.112.7/32"),
    ],
)
def test_real_looking_inputs_pass_the_preflight(run, repo, standins, ssm, url, cidr):
    result = up(run, repo, "--repo-url", url, "--admin-cidr", cidr, "--dry-run")

    assert result.code == 0, result.err


def test_up_needs_both_inputs(run, repo, standins, ssm):
    result = up(run, repo)

    assert result.code == 1
    assert result.err == (
        "cloudctl up: error: --repo-url, --admin-cidr required "
        "(as flags, or keys repo_url, admin_cidr in --config FILE)\n"
    )
    assert standins.calls() == []


def test_a_config_file_outside_git_gives_the_inputs_and_flags_win(run, repo, standins, ssm, tmp_path):
    config = tmp_path / "cloudctl-dev.yaml"
    config.write_text(f"repo_url: {REPO_URL}\nadmin_cidr: 203.0.113.10/32\nrevision: release-7\n")

    refused = up(run, repo, "--config", str(config))
    accepted = up(run, repo, "--config", str(config), "--admin-cidr", ADMIN_CIDR, "--dry-run")

    assert (
        refused.code == 1 and "--admin-cidr 203.0.113.10/32: lies in the documentation range" in refused.err
    )
    assert accepted.code == 0, accepted.err
    assert "pipelines.create(ref=release-7, BUILD_ALL=true)" in accepted.out  # the file's revision
    assert f"TF_VAR_admin_cidr={ADMIN_CIDR} terraform apply" in accepted.out  # the flag's CIDR


@pytest.mark.parametrize(
    ("content", "why"),
    [
        ("repo_url: [unclosed\n", "not YAML"),
        ("- a list\n", "must be a mapping of repo_url, admin_cidr, revision, gitlab_url"),
        ("repo-url: x\n", "unknown key(s) repo-url (known: repo_url, admin_cidr, revision, gitlab_url)"),
    ],
)
def test_a_bad_config_file_is_one_line(run, repo, standins, ssm, tmp_path, content, why):
    config = tmp_path / "cloudctl.yaml"
    config.write_text(content)

    result = up(run, repo, "--config", str(config))

    assert result.code == 1
    assert result.err.startswith(f"cloudctl up: error: --config {config}: {why}")
    assert result.err.count("\n") == 1


def test_a_config_file_inside_the_checkout_is_refused(run, repo, standins, ssm):
    config = repo / "cloudctl.yaml"
    config.write_text(f"repo_url: {REPO_URL}\nadmin_cidr: {ADMIN_CIDR}\n")

    result = up(run, repo, "--config", str(config))

    assert result.code == 1
    assert result.err == (
        f"cloudctl up: error: --config {config}: keep this file outside the checkout, "
        "so it never lands in git\n"
    )


def test_a_missing_config_file_is_one_line(run, repo, standins, ssm, tmp_path):
    result = up(run, repo, "--config", str(tmp_path / "nope.yaml"))

    assert result.code == 1
    assert result.err == f"cloudctl up: error: --config {tmp_path / 'nope.yaml'}: No such file or directory\n"


def test_a_password_for_an_ssh_url_is_refused(run, repo, standins, ssm, monkeypatch):
    monkeypatch.setenv("CLOUDCTL_GIT_USERNAME", "argocd-reader")
    monkeypatch.setenv("CLOUDCTL_GIT_PASSWORD", "glpat-not-a-real-token")

    result = up(run, repo, "--repo-url", "git@gitlab.com:acme/movies.git", "--admin-cidr", ADMIN_CIDR)

    assert result.code == 1
    assert result.err == (
        "cloudctl up: error: CLOUDCTL_GIT_USERNAME/CLOUDCTL_GIT_PASSWORD need an https:// --repo-url, "
        "not git@gitlab.com:acme/movies.git\n"
    )
    assert standins.calls() == []


def test_a_revision_that_is_no_git_ref_is_refused(run, repo, standins, ssm):
    result = up(run, repo, "--repo-url", REPO_URL, "--admin-cidr", ADMIN_CIDR, "--revision", "main branch")

    assert result.code == 1
    assert result.err == "cloudctl up: error: --revision 'main branch': not a git ref\n"
    assert standins.calls() == []
