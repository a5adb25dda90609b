"""The tag writer: only newTag values change, byte for byte; idempotent; malformed input refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from cloudctl.delivery import images
from cloudctl.errors import CloudctlError

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def dev_file(tmp_path) -> Path:
    target = tmp_path / "kustomization.yaml"
    shutil.copyfile(FIXTURES / "overlays/dev/images/kustomization.yaml", target)
    return target


def test_only_the_newtag_lines_change_and_quoting_and_comments_stay(dev_file):
    before = dev_file.read_text().splitlines()

    changed = images.set_tags(dev_file, {"api-gateway": "9e8d7c6", "billing-app": "9e8d7c6"})

    after = dev_file.read_text().splitlines()
    assert changed == ["api-gateway", "billing-app"]
    differing = [(old, new) for old, new in zip(before, after, strict=True) if old != new]
    assert differing == [
        ('    newTag: "3f2a9c1"  # first build', '    newTag: "9e8d7c6"  # first build'),
        ("    newTag: '3f2a9c1'", "    newTag: '9e8d7c6'"),
    ]
    assert images.read_tags(dev_file) == {
        "api-gateway": "9e8d7c6",
        "inventory-app": "3f2a9c1",
        "billing-app": "9e8d7c6",
    }


def test_writing_the_same_tags_again_changes_nothing(dev_file):
    images.set_tags(dev_file, {"inventory-app": "abc1234"})
    once = dev_file.read_bytes()
    mtime = dev_file.stat().st_mtime_ns

    assert images.set_tags(dev_file, {"inventory-app": "abc1234"}) == []
    assert dev_file.read_bytes() == once
    assert dev_file.stat().st_mtime_ns == mtime  # not even rewritten


def test_a_plain_tag_that_yaml_would_read_as_a_number_gets_quoted(dev_file):
    images.set_tags(dev_file, {"inventory-app": "1.10"})
    assert '    newTag: "1.10"\n' in dev_file.read_text()
    assert yaml.safe_load(dev_file.read_text())["images"][1]["newTag"] == "1.10"


def test_flow_style_entries_are_edited_in_place(tmp_path):
    path = tmp_path / "kustomization.yaml"
    path.write_text(
        "kind: Component\nimages:\n"
        "  - {name: billing-app, newName: r/billing-app, newTag: v1}  # flow style\n"
        "  - {name: api-gateway, newTag: 'v1', newName: r/api-gateway}\n"
    )
    images.set_tags(path, {"billing-app": "v2", "api-gateway": "v2"})
    assert path.read_text() == (
        "kind: Component\nimages:\n"
        "  - {name: billing-app, newName: r/billing-app, newTag: v2}  # flow style\n"
        "  - {name: api-gateway, newTag: 'v2', newName: r/api-gateway}\n"
    )


@pytest.mark.parametrize(
    "tag",
    ["latest", "", "-leading-dash", ".dot", "has space", "a:b", "sha256@x", "x" * 129, "tag\nnewName: evil"],
)
def test_malformed_tags_are_refused_and_the_file_is_untouched(dev_file, tag):
    before = dev_file.read_bytes()
    with pytest.raises(CloudctlError, match="image tag"):
        images.set_tags(dev_file, {"api-gateway": tag})
    assert dev_file.read_bytes() == before


def test_an_unknown_image_name_is_refused(dev_file):
    with pytest.raises(CloudctlError, match=r"no images entry named web \(known: api-gateway, billing-app"):
        images.set_tags(dev_file, {"web": "abc1234"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kind: Component\nimages: [\n", "not valid YAML"),
        ("kind: Component\nresources: []\n", "no `images:` list"),
        ("kind: Component\nimages:\n  - newTag: x\n", "needs a name"),
        ("kind: Component\nimages:\n  - name: api-gateway\n    newName: r\n", "has no newTag"),
    ],
)
def test_files_that_are_not_an_images_component_are_refused(tmp_path, text, message):
    path = tmp_path / "kustomization.yaml"
    path.write_text(text)
    with pytest.raises(CloudctlError, match=message):
        images.set_tags(path, {"api-gateway": "abc1234"})
    assert path.read_text() == text


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(CloudctlError, match="cannot read .*kustomization.yaml: No such file"):
        images.set_tags(tmp_path / "kustomization.yaml", {"api-gateway": "abc1234"})


def test_environment_names_cannot_escape_the_overlays_folder():
    assert images.images_path("dev") == "overlays/dev/images/kustomization.yaml"
    for env in ("../etc", "", "Prod", "dev/images"):
        with pytest.raises(CloudctlError, match="malformed environment name"):
            images.images_path(env)


def test_the_repository_images_files_are_editable_by_the_writer():
    """The real overlays/<env>/images files parse as the writer expects (a dry run: nothing written)."""
    root = Path(__file__).resolve().parents[4]
    for env in ("dev", "prod"):
        text = images.images_file(root, env).read_text()
        tags = images.tags_in_text(text, env)
        assert set(tags) == {"api-gateway", "inventory-app", "billing-app"}
        new_text, changed = images.update_text(text, dict.fromkeys(tags, "0123abc"), env)
        assert sorted(changed) == sorted(tags)
        assert len(new_text.splitlines()) == len(text.splitlines())
