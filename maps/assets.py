"""Every script and stylesheet a map needs, from the product itself (never a CDN).

Folium writes ``<script src>`` and ``<link rel=stylesheet>`` tags pointing at public CDNs
(jsDelivr, cdnjs, code.jquery.com ...). Government intranets, field laptops and CDNs that are
slow or blocked in China leave such a page blank. This module knows, for every URL that
folium 0.20 and the plugins we use emit, which installed package ships the same file:

- PyPI ``xstatic-*`` packages: Leaflet, Leaflet.markercluster, jQuery, Font Awesome;
- files vendored from npm under ``maps/static/vendor/`` (committed with their licences, so
  that users need no Node.js; ``scripts/refresh-vendor.sh`` refreshes them from the versions
  in ``maps/static/vendor/package.json``): Bootstrap 5.2.2 (the version folium pins),
  Leaflet.fullscreen, Leaflet.awesome-markers and Leaflet.VectorGrid (served maps' large
  layers drawn from the server's vector tiles);
- ``maps/static/``: the atlas's own script and stylesheet.

:func:`localize_html` rewrites a rendered map so that every asset is either served by the
API (``/maps/assets/<package>/<path>``) or embedded in the file (scripts and styles inline,
images and fonts as ``data:`` URIs), and fails on any URL it does not know rather than let a
CDN link through.
"""

from __future__ import annotations

import base64
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from geo.errors import AtlasError, NotFound

#: URL prefix of the asset route when maps are served (``api/routes/maps.py``).
SERVED_PREFIX = "/maps/assets"
#: Scheme of asset references inside our own elements: ``asset://<package>/<path>``.
ASSET_SCHEME = "asset://"
#: Files vendored from npm, one folder per package (``scripts/refresh-vendor.sh``).
VENDOR = Path(__file__).resolve().parent / "static" / "vendor"

AssetMode = Literal["served", "embedded"]


class AssetError(AtlasError):
    """A map refers to a script or stylesheet the product does not ship, or an asset package
    is not installed."""

    kind = "asset"


@dataclass(frozen=True)
class AssetPackage:
    """One installed package of browser assets.

    Attributes
    ----------
    key
        Short name used in asset URLs (``leaflet``).
    version
        Version of the packaged files.
    origin
        Where it comes from (``PyPI XStatic-Leaflet``, ``npm bootstrap (vendored)``).
    """

    key: str
    version: str
    origin: str
    _root: str
    _kind: Literal["xstatic", "vendor", "own"]

    @property
    def root(self) -> Path:
        """The directory holding the package's files.

        Raises
        ------
        AssetError
            When the package is not installed, saying how to install it.
        """
        if self._kind == "own":
            return Path(__file__).parent / "static"
        if self._kind == "xstatic":
            try:
                module = __import__(f"xstatic.pkg.{self._root}", fromlist=["BASE_DIR"])
            except ImportError:
                raise AssetError(
                    f"the map asset package {self.origin} is not installed; run ./test.sh or "
                    "./run.sh (or: .venv/bin/pip install -e .)"
                ) from None
            return Path(module.BASE_DIR)
        root = VENDOR / self._root
        if not root.is_dir():
            raise AssetError(
                f"the vendored map asset package {self.origin} is missing from {VENDOR}; restore "
                "it from git (git checkout -- maps/static/vendor) or run scripts/refresh-vendor.sh"
            )
        return root


PACKAGES: dict[str, AssetPackage] = {
    p.key: p
    for p in (
        AssetPackage("leaflet", "1.9.3", "PyPI XStatic-Leaflet", "leaflet", "xstatic"),
        AssetPackage("markercluster", "1.4.1", "PyPI XStatic-Leaflet-MarkerCluster",
                     "leaflet_markercluster", "xstatic"),
        AssetPackage("jquery", "3.7.1", "PyPI XStatic-jQuery", "jquery", "xstatic"),
        AssetPackage("fontawesome", "6.2.1", "PyPI XStatic-Font-Awesome", "font_awesome", "xstatic"),
        AssetPackage("bootstrap", "5.2.2", "npm bootstrap (vendored)", "bootstrap", "vendor"),
        AssetPackage("awesome-markers", "2.0.2", "npm drmonty-leaflet-awesome-markers (vendored)",
                     "awesome-markers", "vendor"),
        AssetPackage("fullscreen", "3.0.0", "npm leaflet.fullscreen (vendored)", "fullscreen", "vendor"),
        AssetPackage("vectorgrid", "1.3.0", "npm leaflet.vectorgrid (vendored)", "vectorgrid", "vendor"),
        AssetPackage("atlas", "0.1.0", "this repository (maps/static)", "", "own"),
    )
}

#: Every CDN URL folium 0.20 (``folium.Map`` defaults, ``plugins.MarkerCluster``,
#: ``plugins.Fullscreen``) emits, mapped to ``(package, path)`` of the local copy.
CDN: dict[str, tuple[str, str]] = {
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": ("leaflet", "leaflet.js"),
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": ("leaflet", "leaflet.css"),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery", "jquery.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/jquery/3.7.1/jquery.min.js": ("jquery", "jquery.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        ("bootstrap", "dist/js/bootstrap.bundle.min.js"),
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css":
        ("bootstrap", "dist/css/bootstrap.min.css"),
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        ("fontawesome", "css/all.min.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        ("awesome-markers", "js/leaflet.awesome-markers.min.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        ("awesome-markers", "css/leaflet.awesome-markers.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        ("markercluster", "leaflet.markercluster.js"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        ("markercluster", "MarkerCluster.css"),
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        ("markercluster", "MarkerCluster.Default.css"),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        ("fullscreen", "Control.FullScreen.js"),
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        ("fullscreen", "Control.FullScreen.css"),
}

#: Folium defaults no package ships and no atlas map uses: the Bootstrap 3 glyphicon font
#: (only ``folium.Icon(prefix="glyphicon")``) and folium's own marker-rotation stylesheet
#: (only ``folium.Icon(angle=...)``). They are dropped; use Font Awesome icons instead.
DROPPED: frozenset[str] = frozenset({
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css",
})

#: File types the asset route serves; anything else in a package directory is not an asset.
SERVABLE = {".js": "text/javascript", ".css": "text/css", ".png": "image/png",
            ".svg": "image/svg+xml", ".gif": "image/gif", ".woff2": "font/woff2",
            ".woff": "font/woff", ".ttf": "font/ttf"}


def asset_ref(package: str, path: str) -> str:
    """The reference our own elements put in ``default_js``/``default_css``."""
    return f"{ASSET_SCHEME}{package}/{path}"


def resolve_url(url: str) -> tuple[str, str] | None:
    """``(package, path)`` of the local copy of ``url``; ``None`` for a dropped default.

    Raises
    ------
    AssetError
        For any other URL: it would load from the internet.
    """
    if url in DROPPED:
        return None
    if url.startswith(ASSET_SCHEME):
        package, _, path = url[len(ASSET_SCHEME):].partition("/")
        if package in PACKAGES and path:
            return package, path
    elif url in CDN:
        return CDN[url]
    raise AssetError(
        f"the map refers to {url!r}, which the atlas does not ship; add the package that "
        "provides it to pyproject.toml (or vendor it: scripts/refresh-vendor.sh) and map the URL "
        "in maps/assets.py CDN"
    )


def asset_file(package: str, path: str) -> Path:
    """The file on disk for ``package``/``path``, refusing anything outside the package.

    Raises
    ------
    NotFound
        Unknown package, a path outside it, a missing file or a type that is not an asset.
    """
    spec = PACKAGES.get(package)
    if spec is None:
        raise NotFound(f"no asset package {package!r}; packages: {', '.join(PACKAGES)}")
    root = spec.root.resolve()
    target = (root / path).resolve()
    if not target.is_relative_to(root) or target.suffix not in SERVABLE or not target.is_file():
        raise NotFound(f"no asset {path!r} in package {package!r}")
    return target


def served_url(package: str, path: str) -> str:
    return f"{SERVED_PREFIX}/{package}/{path}"


# ------------------------------------------------------------------ rewriting a page

_SCRIPT = re.compile(r'<script src="([^"]+)"></script>')
_STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"/>')
_EXTERNAL_TAG = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="((?:https?:)?//[^"]+)"', re.I)
_CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")
_FONT_SRC = re.compile(r"src:\s*([^;}]+)")
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.M)
_CSS_SOURCE_MAP = re.compile(r"/\*# sourceMappingURL=.*?\*/")


def localize_html(html: str, *, mode: AssetMode = "served") -> str:
    """Point every script and stylesheet of a rendered page at the product's own copies.

    Parameters
    ----------
    html
        A page rendered by folium/branca.
    mode
        ``served``: link to the API's asset route; ``embedded``: inline every script,
        stylesheet, image and font so that the file works with no server and no network.

    Raises
    ------
    AssetError
        When the page refers to a script or stylesheet the product does not ship.
    """

    def tag(served: str, inline: str, inline_body):
        def replace(match: re.Match) -> str:
            found = resolve_url(match.group(1))
            if found is None:
                return ""
            if mode == "served":
                return served.format(served_url(*found))
            return inline.format(inline_body(*found))

        return replace

    script = tag('<script src="{}"></script>', "<script>{}</script>", _inline_js)
    stylesheet = tag('<link rel="stylesheet" href="{}"/>', "<style>{}</style>", _inline_css)

    out = _SCRIPT.sub(script, html)
    out = _STYLESHEET.sub(stylesheet, out)
    leftover = _EXTERNAL_TAG.search(out)
    if leftover:
        raise AssetError(
            f"the map still loads {leftover.group(1)!r} from the internet; map it in "
            "maps/assets.py CDN to a packaged copy"
        )
    return out


@cache
def _inline_js(package: str, path: str) -> str:
    code = asset_file(package, path).read_text(encoding="utf-8")
    code = _SOURCE_MAP.sub("", code)
    return code.replace("</script", "<\\/script")


@cache
def _inline_css(package: str, path: str) -> str:
    css_path = asset_file(package, path)
    css = _CSS_SOURCE_MAP.sub("", css_path.read_text(encoding="utf-8"))
    css = _FONT_SRC.sub(_prefer_woff2, css)
    css = _drop_repeated_fonts(css)
    base = css_path.parent
    root = PACKAGES[package].root.resolve()

    def data_uri(match: re.Match) -> str:
        ref = match.group(2).strip()
        if ref.startswith(("data:", "#")):
            return match.group(0)
        if ref.startswith(("http:", "https:", "//")):
            raise AssetError(f"{package}/{path} refers to {ref!r} on the internet")
        target = (base / ref.split("?")[0].split("#")[0]).resolve()
        relative = target.relative_to(root).as_posix()
        file = asset_file(package, relative)
        mime = SERVABLE.get(file.suffix) or mimetypes.guess_type(file.name)[0]
        encoded = base64.b64encode(file.read_bytes()).decode("ascii")
        return f'url("data:{mime};base64,{encoded}")'

    return _CSS_URL.sub(data_uri, css).replace("</style", "<\\/style")


_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}")


def _drop_repeated_fonts(css: str) -> str:
    """Drop ``@font-face`` rules whose font file an earlier rule already embeds.

    Font Awesome declares each font file three times (``Font Awesome 6``, the ``Font Awesome
    5`` and ``FontAwesome`` compatibility names); embedding every copy would triple the
    fonts' weight in each file. The current names keep working; the legacy aliases do not
    in embedded files (our maps use neither).
    """
    seen: set[str] = set()

    def keep_first(match: re.Match) -> str:
        files = tuple(m.group(2) for m in _CSS_URL.finditer(match.group(0)))
        if files and all(f in seen for f in files):
            return ""
        seen.update(files)
        return match.group(0)

    return _FONT_FACE.sub(keep_first, css)


def _prefer_woff2(match: re.Match) -> str:
    """Keep only the woff2 sources of an ``@font-face`` (every current browser reads woff2),
    so that an embedded map does not carry each font twice."""
    sources = re.split(r",\s*(?=url\()", match.group(1))
    woff2 = [s for s in sources if "woff2" in s]
    return "src:" + ",".join(woff2 or sources)
