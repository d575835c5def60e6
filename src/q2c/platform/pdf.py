"""Safe, reproducible HTML → PDF rendering with WeasyPrint, shared by invoices and quotes.

Owns two things:

- :class:`StaticFilesFetcher`, the only URL fetcher documents are rendered with. WeasyPrint's
  default fetcher follows ``file://`` and network URLs, so a name such as
  ``<img src=file:///etc/passwd>`` that reached the HTML unescaped would read local files or
  call out. This fetcher serves only the app's own static files (found through Django's
  staticfiles finders, never by joining paths) with an allow-list of types, plus ``data:`` URLs
  of raster images up to a size limit; everything else is refused and recorded.
- :func:`render_pdf`, which fixes everything WeasyPrint would otherwise vary between runs: the
  PDF creation/modification dates come from the caller (the document's date), and the file
  identifier is derived from a caller-given key. The same HTML renders to the same bytes on the
  same software and fonts, so an issued document can be re-rendered and compared with its stored
  SHA-256. A document's own stylesheet may be given as ``stylesheets`` (static paths) instead of
  a ``<link>``: it is fetched through the same fetcher and parsed once per thread (again only
  when its bytes change), which gives the same bytes as the ``<link>`` without parsing the CSS
  for every document.

Templates refer to assets with ``{% static %}``; the HTML is given the base URL
:data:`BASE_URL` (a reserved ``.invalid`` host, RFC 6761, which can never resolve), so a
static URL such as ``/static/q2c/logo.png`` becomes ``https://q2c.invalid/static/q2c/logo.png``
and is answered from the static files without any network.

Must not import any q2c app (platform layer).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import mimetypes
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders

logger = logging.getLogger(__name__)

#: Base URL of every rendered document. ``.invalid`` is reserved: nothing can ever answer it.
BASE_URL = "https://q2c.invalid/"

#: Static file types a document may use, by extension.
STATIC_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".css": "text/css",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}

#: ``data:`` URLs allowed: raster images only (an SVG could carry further references).
DATA_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
MAX_DATA_BYTES = 2 * 1024 * 1024
MAX_STATIC_BYTES = 5 * 1024 * 1024


class URLRefused(ValueError):
    """A document asked for a resource outside the app's static files."""


@dataclass
class StaticFilesFetcher:
    """A WeasyPrint ``url_fetcher`` limited to the app's static files and small image data URLs.

    ``served`` and ``refused`` record what was asked for, so callers and tests can see it.
    """

    data_image_types: frozenset[str] = DATA_IMAGE_TYPES
    max_data_bytes: int = MAX_DATA_BYTES
    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def __call__(self, url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            result = self._fetch(url)
        except URLRefused as exc:
            self.refused.append(url)
            logger.warning("PDF rendering refused a resource: %s", exc)
            raise
        self.served.append(url)
        return result

    def _fetch(self, url: str) -> dict[str, Any]:
        if not isinstance(url, str):
            raise URLRefused("not a URL")
        if url[:5].lower() == "data:":
            return self._data(url)
        return self._static(url)

    def _data(self, url: str) -> dict[str, Any]:
        header, sep, payload = url[5:].partition(",")
        if not sep:
            raise URLRefused("malformed data: URL")
        parts = [p.strip().lower() for p in header.split(";")]
        mime = parts[0]
        if mime not in self.data_image_types or "base64" not in parts[1:]:
            raise URLRefused(f"data: URL of type {mime or 'text/plain'} is not allowed")
        if len(payload) > self.max_data_bytes * 4 // 3 + 4:
            raise URLRefused("data: URL too large")
        try:
            data = base64.b64decode(unquote(payload), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise URLRefused("data: URL is not valid base64") from exc
        return {"string": data, "mime_type": mime}

    def _static(self, url: str) -> dict[str, Any]:
        prefix = static_prefix()
        if not url.startswith(prefix):
            scheme = urlsplit(url).scheme or "relative"
            raise URLRefused(f"{scheme} URL outside the static files: {url[:200]}")
        relative = unquote(urlsplit(url[len(prefix) :]).path)
        segments = relative.split("/")
        if (
            not relative
            or relative.startswith("/")
            or "\\" in relative
            or "\x00" in relative
            or any(s in ("", ".", "..") for s in segments)
        ):
            raise URLRefused(f"unsafe static path: {relative[:200]!r}")
        mime = STATIC_TYPES.get(Path(relative).suffix.lower())
        if mime is None:
            raise URLRefused(f"static file type not allowed in documents: {relative[:200]!r}")
        found = finders.find(relative)
        if not found or isinstance(found, list):
            raise URLRefused(f"no such static file: {relative[:200]!r}")
        path = Path(found)
        if not path.is_file() or path.stat().st_size > MAX_STATIC_BYTES:
            raise URLRefused(f"static file unavailable or too large: {relative[:200]!r}")
        return {"string": path.read_bytes(), "mime_type": mime or mimetypes.guess_type(relative)[0]}


def static_prefix() -> str:
    """The absolute URL under which documents see the static files."""
    return urljoin(BASE_URL, settings.STATIC_URL or "/static/")


def _w3c(moment: date | datetime) -> str:
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(0, 0))
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.isoformat(timespec="seconds")


_fonts = threading.local()


def font_config() -> Any:
    """This thread's WeasyPrint font configuration, made once and reused: building one loads the
    system's font set, and its layout caches make every later document faster. Documents use no
    ``@font-face``, so nothing a document says is kept in it; the bytes are the same as with a
    fresh one. One per thread, as Pango's font map is not shared between threads."""
    config = getattr(_fonts, "config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = _fonts.config = FontConfiguration()
    return config


_sheets = threading.local()


def stylesheet(relative: str, fetcher: StaticFilesFetcher) -> Any:
    """The static CSS file ``relative`` (``"quotes/document.css"``) as a parsed WeasyPrint
    stylesheet. It is read through ``fetcher`` every time (so it is allowed, and recorded in
    ``served``, exactly as a ``<link>`` would be) but parsed only once per thread and content:
    the parsed rules are read-only during rendering. One cache per thread, like the font
    configuration the stylesheet is bound to."""
    if Path(relative).suffix.lower() != ".css":
        raise ValueError(f"not a stylesheet: {relative[:200]!r}")
    url = static_prefix() + relative
    data: bytes = fetcher(url)["string"]
    cache: dict[str, tuple[bytes, Any]] | None = getattr(_sheets, "cache", None)
    if cache is None:
        cache = _sheets.cache = {}
    digest = hashlib.sha256(data).digest()
    cached = cache.get(url)
    if cached is None or cached[0] != digest:
        from weasyprint import CSS

        sheet = CSS(
            string=data.decode("utf-8"),
            base_url=url,
            url_fetcher=StaticFilesFetcher(),
            font_config=font_config(),
        )
        cached = cache[url] = (digest, sheet)
    return cached[1]


def render_pdf(
    html: str,
    *,
    key: str,
    created: date | datetime,
    fetcher: StaticFilesFetcher | None = None,
    pdf_variant: str | None = None,
    title: str | None = None,
    lang: str | None = None,
    stylesheets: Sequence[str] = (),
) -> bytes:
    """Render ``html`` to PDF bytes, reproducibly.

    ``key`` names the document (``"invoice:INV-2027-000001"``); the PDF file identifier is
    derived from it. ``created`` is written as the PDF creation and modification date (use the
    document's own date, never the wall clock). ``pdf_variant`` is a WeasyPrint variant such as
    ``"pdf/a-3b"`` (what Factur-X needs). Resources are fetched only by ``fetcher`` (a fresh
    :class:`StaticFilesFetcher` when not given). ``stylesheets`` are static paths of the
    document's own stylesheets, applied after any the HTML links (see :func:`stylesheet`).
    """
    from weasyprint import HTML  # imported here: it loads Pango/HarfBuzz, which not every command needs

    fetcher = fetcher or StaticFilesFetcher()
    sheets = [stylesheet(relative, fetcher) for relative in stylesheets]
    document = HTML(string=html, base_url=BASE_URL, url_fetcher=fetcher).render(
        font_config=font_config(), stylesheets=sheets
    )
    stamp = _w3c(created)
    document.metadata.created = stamp
    document.metadata.modified = stamp
    if title is not None:
        document.metadata.title = title
    if lang is not None:
        document.metadata.lang = lang
    identifier = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32].encode("ascii")
    pdf: bytes = document.write_pdf(pdf_identifier=identifier, pdf_variant=pdf_variant)
    return pdf
