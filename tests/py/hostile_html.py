"""The hostile-HTML corpus of the webmail test (tests/webmail_browser.rs): messages
whose HTML tries to run script or load something remote, in the ways mail has been
used to attack webmail — script elements, event handlers, javascript: URLs, CSS
tricks, SVG, forms, meta refresh, frames and objects, remote trackers, and the same
again hidden by transfer encodings, charsets, entities and parser confusion.

Every payload that runs calls the trap (`TRAP/ran-NAME`) and every remote resource
is on the trap (`TRAP/load-NAME`): the test's trap server sees anything that ran or
loaded. `corpus(trap, sender, recipient)` gives (name, message bytes) pairs.
"""

import base64
import quopri


def _run(trap, name):
    return f"new Image().src='{trap}/ran-{name}';document.title='PWNED';console.log('EXECUTED {name}')"


def _bodies(trap):
    """(name, HTML) pairs."""
    run = lambda name: _run(trap, name)  # noqa: E731
    load = lambda name: f"{trap}/load-{name}"  # noqa: E731
    return [
        ("script", f"<p>Kính gửi</p><script>{run('script')}</script>"),
        ("script-src", f"<script src=\"{load('script-src')}\"></script>"),
        ("img-onerror", f"<img src=x onerror=\"{run('img-onerror')}\">"),
        ("body-onload", f"<body onload=\"{run('body-onload')}\"><p>x</p></body>"),
        ("svg-onload", f"<svg onload=\"{run('svg-onload')}\"><circle r=5 /></svg>"),
        ("svg-script", f"<svg><script>{run('svg-script')}</script></svg>"),
        ("javascript-link", f"<a id=l href=\"javascript:{run('javascript-link')}\">bấm</a>"),
        ("javascript-entities", "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;"
                                f"{run('javascript-entities')}\">bấm</a>"),
        ("javascript-tab", f"<a href=\"java\tscript:{run('javascript-tab')}\">bấm</a>"),
        ("iframe", f"<iframe src=\"{load('iframe')}\"></iframe>"),
        ("iframe-srcdoc", f"<iframe srcdoc=\"<script>{run('iframe-srcdoc')}</script>\"></iframe>"),
        ("iframe-data", "<iframe src=\"data:text/html;base64,"
                        + base64.b64encode(f"<script>{run('iframe-data')}</script>".encode()).decode()
                        + "\"></iframe>"),
        ("object-embed", f"<object data=\"{load('object')}\"></object><embed src=\"{load('embed')}\">"),
        ("form", f"<form action=\"{load('form')}\" method=post><input name=p value=x>"
                 f"<button autofocus onfocus=\"this.form.submit()\">Gửi</button></form>"),
        ("meta-refresh", f"<meta http-equiv=\"refresh\" content=\"0;url={load('meta-refresh')}\"><p>x</p>"),
        ("base", f"<base href=\"{trap}/\"><img src=\"load-base.gif\">"),
        ("link-stylesheet", f"<link rel=stylesheet href=\"{load('link')}\"><p>x</p>"),
        ("style-import", f"<style>@import url({load('style-import')});</style><p>x</p>"),
        ("style-attribute", f"<div style=\"background:url({load('style-attribute')})\">x</div>"),
        ("css-expression", f"<div style=\"width:expression({run('css-expression')})\">x</div>"),
        ("tracker-pixel", f"<p>Thư mời họp</p><img src=\"{load('tracker-pixel')}\" width=1 height=1>"),
        ("tracker-srcset", f"<img srcset=\"{load('tracker-srcset')} 1x\" src=\"cid:none\">"),
        ("picture-source", f"<picture><source srcset=\"{load('picture')}\"><img alt=x></picture>"),
        ("media", f"<video poster=\"{load('video-poster')}\" src=\"{load('video')}\"></video>"
                  f"<audio src=\"{load('audio')}\" autoplay></audio>"),
        ("table-background", f"<table background=\"{load('table-background')}\"><tr><td>x</td></tr></table>"),
        ("protocol-relative", f"<img src=\"{load('protocol-relative').replace('http:', '')}\">"),
        ("details-ontoggle", f"<details open ontoggle=\"{run('details-ontoggle')}\"><summary>x</summary></details>"),
        ("mxss-noscript", f"<noscript><p title=\"</noscript><img src=x onerror={run('mxss-noscript')}>\"></noscript>"),
        ("mxss-math", f"<math><mtext><table><mglyph><style><img src=x onerror=\"{run('mxss-math')}\">"
                      "</style></mglyph></table></mtext></math>"),
        ("input-autofocus", f"<input autofocus onfocus=\"{run('input-autofocus')}\">"),
        ("marquee", f"<marquee onstart=\"{run('marquee')}\">x</marquee>"),
        ("area-href", f"<map name=m><area shape=rect coords=0,0,9,9 href=\"javascript:{run('area')}\"></map>"
                      "<img usemap=#m src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">"),
    ]


def _message(sender, recipient, subject_tail, content_type, headers, body):
    subject = base64.b64encode(f"Thư thử nghiệm an toàn: {subject_tail}".encode()).decode()
    head = (
        f"From: {sender}\r\nTo: {recipient}\r\nSubject: =?UTF-8?B?{subject}?=\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n{headers}\r\n"
    )
    return head.encode() + body


def corpus(trap, sender, recipient):
    messages = []
    for name, html in _bodies(trap):
        document = f"<html><head><meta charset=utf-8></head><body>{html}</body></html>"
        messages.append((name, _message(sender, recipient, name, "text/html; charset=utf-8",
                                        "Content-Transfer-Encoding: 8bit\r\n",
                                        document.encode() + b"\r\n")))
    # The same attacks behind encodings: quoted-printable, base64, UTF-7, a
    # multipart/alternative whose HTML is the hostile part.
    script = f"<script>{_run(trap, 'quoted-printable')}</script>".encode()
    messages.append(("quoted-printable", _message(
        sender, recipient, "quoted-printable", "text/html; charset=utf-8",
        "Content-Transfer-Encoding: quoted-printable\r\n", quopri.encodestring(script, quotetabs=True) + b"\r\n")))
    encoded = base64.encodebytes(f"<img src=x onerror=\"{_run(trap, 'base64')}\">".encode())
    messages.append(("base64", _message(
        sender, recipient, "base64", "text/html; charset=utf-8",
        "Content-Transfer-Encoding: base64\r\n", encoded.replace(b"\n", b"\r\n"))))
    utf7 = f"+ADw-script+AD4-{_run(trap, 'utf7')}+ADw-/script+AD4-".encode()
    messages.append(("utf-7", _message(sender, recipient, "utf-7", "text/html; charset=utf-7",
                                       "Content-Transfer-Encoding: 7bit\r\n", utf7 + b"\r\n")))
    svg = f"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"{_run(trap, 'cid-svg')}\"/>".encode()
    alternative = (
        b"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nXem b\xe1\xba\xa3n HTML.\r\n"
        b"--alt\r\nContent-Type: multipart/related; boundary=rel\r\n\r\n"
        b"--rel\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        + f"<p>Logo</p><img src=\"cid:logo@x\"><img src=\"{trap}/load-related\">".encode()
        + b"\r\n--rel\r\nContent-Type: image/svg+xml\r\nContent-ID: <logo@x>\r\n"
          b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(svg).replace(b"\n", b"\r\n")
        + b"--rel--\r\n--alt--\r\n"
    )
    messages.append(("alternative-cid-svg", _message(
        sender, recipient, "alternative-cid-svg", "multipart/alternative; boundary=alt", "", alternative)))
    return messages


if __name__ == "__main__":
    for name, raw in corpus("http://127.0.0.1:9", "a@example.org", "b@example.org"):
        print(name, len(raw))
