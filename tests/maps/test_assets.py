"""Every CDN URL folium emits maps to a packaged file; nothing else gets through."""

from __future__ import annotations

import base64
import re

import folium
import pytest
from folium.plugins import Fullscreen, MarkerCluster

from geo.errors import NotFound
from maps import assets
from maps.assets import AssetError, asset_file, localize_html, resolve_url


def folium_urls() -> set[str]:
    urls = set()
    for element in (folium.Map, MarkerCluster, Fullscreen):
        urls.update(url for _, url in element.default_js + element.default_css)
    return urls


def test_every_folium_url_we_use_is_mapped_to_an_installed_file():
    for url in folium_urls():
        found = resolve_url(url)
        if found is None:
            assert url in assets.DROPPED
            continue
        assert asset_file(*found).stat().st_size > 100, url


def test_the_atlas_own_assets_exist():
    assert asset_file("atlas", "atlas.js").read_text().startswith("/*")
    assert asset_file("atlas", "atlas.css").exists()


def test_unknown_url_is_refused():
    with pytest.raises(AssetError, match="does not ship"):
        resolve_url("https://unpkg.com/some-plugin.js")
    page = '<script src="https://unpkg.com/some-plugin.js"></script>'
    with pytest.raises(AssetError):
        localize_html(page)
    sneaky = '<script defer src="https://example.org/x.js"></script>'
    with pytest.raises(AssetError, match="example.org"):
        localize_html(sneaky)


@pytest.mark.parametrize("path", ["../__init__.py", "../../leaflet/__init__.py", "/etc/passwd",
                                  "leaflet.js.map", "nope.js"])
def test_asset_file_refuses_paths_outside_the_package(path):
    with pytest.raises(NotFound):
        asset_file("leaflet", path)
    with pytest.raises(NotFound, match="no asset package"):
        asset_file("evil", "x.js")


def test_embedded_css_inlines_images_and_only_woff2_fonts():
    page = localize_html(
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css"/>'
        '<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"/>',
        mode="embedded")
    assert "<link" not in page and "../webfonts" not in page and "images/layers.png" not in page
    assert "truetype" not in page
    fonts = re.findall(r"data:font/woff2;base64,([A-Za-z0-9+/=]+)", page)
    assert len(fonts) == len(set(fonts)) >= 3  # each font file once
    assert base64.b64decode(fonts[0])[:4] == b"wOF2"
    assert "data:image/png;base64," in page


def test_embedded_script_cannot_end_its_element(tmp_path):
    page = localize_html('<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script>', mode="embedded")
    inner = page[len("<script>"):-len("</script>")]
    assert "</script" not in inner.lower()
    assert "sourceMappingURL" not in inner


def test_no_node_modules_or_package_json_is_needed_at_run_time(tmp_path):
    """A copy of the code as a clone has it (the files git tracks) without node_modules/ or any
    package.json renders an embedded map with every packaged script and stylesheet: users need
    no Node.js, and no vendored file is missing from the repository (an ignore rule once kept
    Bootstrap's dist/ out of it)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    tracked = subprocess.run(["git", "ls-files", "-z", "geo", "maps"], cwd=root, check=True, capture_output=True,
                             text=True, timeout=120).stdout.split("\0")
    for name in filter(None, tracked):
        if Path(name).name in ("package.json", "package-lock.json") or not (root / name).is_file():
            continue
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, tmp_path / name)
    assert not list(tmp_path.rglob("node_modules")) and not list(tmp_path.rglob("package*.json"))
    script = """
import folium, maps
from folium.plugins import Fullscreen, MarkerCluster
from maps.assets import localize_html
assert maps.__file__.startswith(ROOT), maps.__file__
m = folium.Map()
MarkerCluster().add_to(m)
Fullscreen().add_to(m)
folium.Marker([37.5, 105.2], icon=folium.Icon(icon="home", prefix="fa")).add_to(m)
html = localize_html(m.get_root().render(), mode="embedded")
assert "<script src=" not in html and "<link rel=" not in html
assert "L.AwesomeMarkers" in html and "fullscreen" in html.lower() and "Bootstrap" in html
print("ok", len(html))
"""
    done = subprocess.run([sys.executable, "-c", f"ROOT = {str(tmp_path)!r}\n" + script], check=False,
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok")


def test_vendored_packages_carry_their_licences():
    for key, package in assets.PACKAGES.items():
        if package._kind == "vendor":
            assert package.root.is_relative_to(assets.VENDOR), key
            assert "MIT" in (package.root / "LICENSE").read_text(), key
