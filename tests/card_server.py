"""A local HTTP server standing in for the networks in card tests (no internet): oEmbed answers, pages, images,
a deleted post, a slow server, a 50 MB answer and redirects to private addresses.

Each test starts its own on 127.0.0.1 with a free port; `requests` lists what it received (path, headers).
"""

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from PIL import Image


def png_bytes(color=(200, 30, 30), size=(64, 36), exif=False):
    image = Image.new("RGB", size, color)
    out = io.BytesIO()
    if exif:
        data = Image.Exif()
        data[0x8825] = {1: "N", 2: (33.0, 30.0, 0.0)}  # GPS info: must never be stored
        image.save(out, format="JPEG", exif=data.tobytes())
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def oembed(provider, url, base):
    """What each network's oEmbed endpoint answers for `url` (shapes copied from their public answers)."""
    if provider == "youtube":
        return {
            "type": "video",
            "title": "Sham Corps fighters advance on Sukayk, followed by air strikes",
            "author_name": "SMART News Agency",
            "author_url": "https://www.youtube.com/@SMARTNewsAgency",
            "thumbnail_url": f"{base}/images/poster.jpg",
            "html": '<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ"></iframe>',
        }
    if provider == "x":
        return {
            "author_name": "Qasioun News",
            "author_url": "https://twitter.com/Qasioun_News",
            "html": '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Russian air strikes on al-Harra and Tell Mutawwaq, Daraa province '
            '<a href="https://t.co/x">pic.twitter.com/x</a></p>&mdash; Qasioun News (@Qasioun_News) '
            '<a href="https://twitter.com/Qasioun_News/status/656880287469297664">October 21, 2015</a></blockquote>',
        }
    if provider == "vimeo":
        return {
            "title": "Douma after seven air strikes",
            "author_name": "Douma Media Centre",
            "author_url": "https://vimeo.com/doumamedia",
            "upload_date": "2015-10-21 14:05:00",
            "description": "Smoke over Douma, 10 km north-east of Damascus.",
            "thumbnail_url": f"{base}/images/poster.jpg",
        }
    if provider == "tiktok":
        return {
            "title": "Su-34 over al-Harra",
            "author_name": "SMART News",
            "author_unique_id": "smartnews",
            "thumbnail_url": f"{base}/images/poster.jpg",
        }
    if provider == "bluesky":
        return {
            "author_name": "Syria Institute",
            "author_url": "https://bsky.app/profile/syriainstitute.org",
            "html": '<blockquote class="bluesky-embed"><p lang="en">Submunitions found in al-Myassar, Aleppo</p>'
            '&mdash; Syria Institute (<a href="https://bsky.app/profile/syriainstitute.org">@syriainstitute.org</a>) '
            '<a href="https://bsky.app/profile/syriainstitute.org/post/3kxyzabc2de2f">October 21, 2015</a></blockquote>',
        }
    return None


def page(title, description, image, published="", extra=""):
    return (
        "<!doctype html><html><head>"
        f'<title>{title}</title><meta property="og:title" content="{title}">'
        f'<meta property="og:description" content="{description}">'
        f'<meta property="og:image" content="{image}">'
        + (f'<meta property="article:published_time" content="{published}">' if published else "")
        + extra
        + "</head><body><p>Article text.</p></body></html>"
    ).encode()


class CardServer:
    def __init__(self):
        self.requests = []
        self.routes = {}  # path -> callable(handler) for extra behaviours a test adds
        self.gone = set()  # paths that now answer 404 (a deleted post)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                parts = urlsplit(self.path)
                if parts.path in server.gone:
                    return self._send(404, b"gone", "text/plain")
                if parts.path in server.routes:
                    return server.routes[parts.path](self)
                if parts.path.startswith("/oembed/"):
                    provider = parts.path.split("/")[2]
                    url = parse_qs(parts.query).get("url", [""])[0]
                    if url in server.gone:
                        return self._send(404, b"{}", "application/json")
                    data = oembed(provider, url, server.base)
                    return self._send(200, json.dumps(data).encode(), "application/json")
                if parts.path.startswith("/images/"):
                    return self._send(200, png_bytes(exif=True), "image/jpeg")
                if parts.path == "/oembed-mastodon.json":
                    data = {"author_name": "Institute for the Study of War", "author_url": "https://mastodon.social/@isw"}
                    return self._send(200, json.dumps(data).encode(), "application/json")
                if parts.path.startswith("/@"):
                    return self._send(200, server.page_for("/mastodon/"), "text/html; charset=utf-8")
                if parts.path.startswith("/page/"):
                    return self._send(200, server.page_for(parts.path), "text/html; charset=utf-8")
                return self._send(404, b"not here", "text/plain")

            def _send(self, status, body, content_type, headers=()):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

        self.handler = Handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page_for(self, path):
        base = self.base
        if "/telegram/" in path:
            return page("SMART News Agency", "Sham Corps fighters moving on Sukayk, north-east of Hama", f"{base}/images/t.jpg")
        if "/instagram/" in path:
            return page("Syria Institute on Instagram", "Submunitions from a cluster bomb in al-Myassar", f"{base}/images/i.jpg")
        if "/facebook/" in path:
            return page(
                "Local Coordination Committees", "14 civilians killed in seven air strikes on Douma", f"{base}/images/f.jpg"
            )
        if "/mastodon/" in path:
            return page(
                "ISW (@isw@mastodon.social)",
                "Russian air strikes intensify as the Aleppo offensive stalls",
                f"{base}/images/m.jpg",
                extra=f'<link rel="alternate" type="application/json+oembed" href="{base}/oembed-mastodon.json">',
            )
        return page(
            "Russia asks Lebanon for army positions near the border",
            "NOW Lebanon, citing Alaraby Aljadeed: Moscow asked Beirut for the coordinates of units near the border.",
            "/images/a.jpg",
            published="2015-10-21T09:30:00+00:00",
            extra='<meta property="og:site_name" content="NOW Lebanon">',
        )

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def slow(handler, chunks=20, pause=0.5):
    """Answer a byte every `pause` seconds (a server that never finishes in time)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    handler.send_header("Content-Length", str(chunks))
    handler.end_headers()
    for _ in range(chunks):
        try:
            handler.wfile.write(b"x")
            handler.wfile.flush()
        except OSError:
            return
        time.sleep(pause)


def huge(handler, megabytes=50, declare=False):
    """A 50 MB answer, made as it is sent (chunked unless `declare`)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html")
    block = b"<p>" + b"a" * (1024 * 1024 - 3)
    if declare:
        handler.send_header("Content-Length", str(megabytes * len(block)))
    else:
        handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    try:
        for _ in range(megabytes):
            if declare:
                handler.wfile.write(block)
            else:
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        if not declare:
            handler.wfile.write(b"0\r\n\r\n")
    except OSError:
        return


def redirect(to, cookie=False):
    def answer(handler):
        handler.send_response(302)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        if cookie:
            handler.send_header("Set-Cookie", "tracker=1; Path=/")
        handler.end_headers()

    return answer
