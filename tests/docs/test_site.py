"""The documentation site builds strictly, fetches nothing from the internet, and a broken link fails it.

``mkdocs build --strict`` is also a step of ``.ci/run``; these tests make the same promise locally and
prove that the strictness is real (a site with a broken link or anchor does not build).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL_FETCH = re.compile(
    r"<(?:script|img|iframe|source|audio|video)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//",
    re.I,
)


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_site_builds_strictly_and_offline(tmp_path: Path) -> None:
    result = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert result.returncode == 0, result.stderr
    pages = sorted((tmp_path / "site").glob("*.html"))
    assert {p.name for p in pages} >= {"index.html", "cli.html", "load.html", "admin.html", "feed.html"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not EXTERNAL_FETCH.search(text), f"{page.name} fetches {EXTERNAL_FETCH.search(text)}"
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, page.name
    load = (tmp_path / "site" / "load.html").read_text(encoding="utf-8")
    assert "generated: load-schema" not in load and "business_units" in load  # the schema is in
    cli = (tmp_path / "site" / "cli.html").read_text(encoding="utf-8")
    assert "ms-prcs milestone" in cli and "--as-of" in cli  # generated from the click commands


@pytest.mark.parametrize(
    "link", ["[gone](missing.md)", "[gone](other.md#no-such-heading)"], ids=["page", "anchor"]
)
def test_a_broken_link_fails_the_build(tmp_path: Path, link: str) -> None:
    """The real config's validation rules, on a two-page site with one broken link."""
    real = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(f"# Home\n\nSee {link} and [fine](other.md).\n", encoding="utf-8")
    (docs / "other.md").write_text("# Other\n\n## A heading\n", encoding="utf-8")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "site_name": "t",
                "docs_dir": "docs",
                "strict": True,
                "validation": real["validation"],
                "nav": ["index.md", "other.md"],
            }
        ),
        encoding="utf-8",
    )
    assert build(config, tmp_path / "ok-site").returncode != 0
    (docs / "index.md").write_text("# Home\n\n[fine](other.md#a-heading)\n", encoding="utf-8")
    result = build(config, tmp_path / "site")
    assert result.returncode == 0, result.stderr  # the same site without the broken link builds
