"""Find anything in HTML that could run script or pull in a third party.

Reads markup the way a browser's tokenizer does (html.parser), so a payload
that survives as text ("&lt;script&gt;") is fine and one that survives as
markup is reported, wherever it sits: element, attribute, URL or style.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

PAYLOADS = [
    line
    for line in (Path(__file__).parent / "payloads.txt").read_text().splitlines()
    if line.strip() and not line.startswith("# ")
]

URL_ATTRIBUTES = {
    "href",
    "src",
    "action",
    "formaction",
    "data",
    "poster",
    "background",
    "xlink:href",
    "srcset",
    "ping",
    "srcdoc",
    "lowsrc",
    "dynsrc",
    "codebase",
    "cite",
    "longdesc",
    "content",
}
FORBIDDEN_ELEMENTS = {
    "iframe",
    "object",
    "embed",
    "applet",
    "base",
    "frame",
    "frameset",
    "portal",
    "bgsound",
    "style",
    "link",
    "meta",
    "foreignobject",
    "animate",
    "set",
    "animatemotion",
    "animatetransform",
    "use",
    "template",
    "math",
    "noscript",
    "noembed",
    "noframes",
    "xmp",
    "plaintext",
    "listing",
    "textarea",
    "input",
    "button",
    "select",
    "keygen",
    "dialog",
    "marquee",
    "isindex",
    "image",
}
_CONTROL = re.compile(r"[\x00-\x20\x7f]+")
# What a browser does with a URL: with a scheme, only these are harmless; without
# one (a path, a query, a fragment, even a leading backslash) it stays on the site.
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):", re.IGNORECASE)
_SAFE_SCHEMES = {"http", "https", "mailto"}
# Whole pages may link and load from the site itself only.
_OWN_ORIGINS = ("/", "http://127.0.0.1:8000/", "http://testserver/")
_DANGEROUS_CSS = re.compile(
    r"expression\s*\(|javascript:|url\s*\(|@import|behavior|binding|position\s*:\s*(fixed|absolute)", re.IGNORECASE
)


class _Finder(HTMLParser):
    def __init__(self, allowed_elements):
        super().__init__(convert_charrefs=True)
        self.allowed = allowed_elements
        self.problems = []
        self._in_script = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        where = f"<{tag} {attrs}>"
        if tag == "script":
            ours = (attributes.get("src") or "").startswith(("/static/", "/admin/jsi18n/")) or attributes.get("type") in (
                "application/ld+json",
                "application/json",
            )
            if not ours or set(attributes) - {"src", "type", "defer", "nonce", "id", "data-ckeditor-basepath", "async"}:
                self.problems.append(f"script element {where}")
        elif tag in FORBIDDEN_ELEMENTS and tag not in self.allowed:
            self.problems.append(f"forbidden element {where}")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on {where}")
            if name in URL_ATTRIBUTES and name != "content":
                for candidate in value.split(",") if name in ("srcset",) else [value]:
                    url = _CONTROL.sub("", candidate.strip().split(" ")[0] if name == "srcset" else candidate)
                    scheme = _SCHEME.match(url)
                    if url.startswith("//") or (scheme and scheme.group(1).lower() not in _SAFE_SCHEMES):
                        self.problems.append(f"unsafe URL {name}={value!r} on {where}")
                    elif (
                        tag in ("link", "script", "img", "source", "iframe", "video", "audio")
                        and name in ("href", "src", "srcset")
                        and scheme
                        and not url.startswith(_OWN_ORIGINS)
                    ):
                        self.problems.append(f"third-party resource {name}={value!r} on {where}")
            if name == "style" and _DANGEROUS_CSS.search(value):
                self.problems.append(f"dangerous style on {where}")
            if tag == "meta" and attributes.get("http-equiv"):
                self.problems.append(f"meta refresh {where}")
            if name == "target" and value == "_blank" and "noopener" not in (attributes.get("rel") or ""):
                self.problems.append(f"tabnabbing link {where}")


def problems_in(html, allowed_elements=()):
    finder = _Finder(set(allowed_elements))
    finder.feed(html)
    finder.close()
    return finder.problems
