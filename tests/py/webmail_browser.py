#!/usr/bin/env python3
"""Drives the webmail with real headless Chromium through WebDriver (Debian chromium,
chromium-driver, python3-selenium) and prints one JSON object with what it saw;
tests/webmail_browser.rs checks it.

--mode flows: an official signs in and lands on the webmail; reads a message with a
  Vietnamese subject and attachment; replies with an English subject and sees the
  policy's warning before anything is sent; fixes it, attaches a file and sends; with
  the INBOX open, a message delivered over SMTP (smtplib to the MX port) appears
  without a reload; a flag set on the page reaches an imaplib session in IDLE.
  A screenshot of each step goes to --out.

--mode corpus: delivers the hostile-HTML corpus (tests/py/hostile_html.py) over SMTP
  and opens every message. Every remote URL in the corpus points at a trap, a small
  HTTP server of this script on 127.0.0.1: a request reaching it means something
  loaded or ran. The browser's network log (every request of every frame) and its
  console are returned too.
"""

import argparse
import http.server
import imaplib
import json
import os
import smtplib
import socket
import ssl
import sys
import threading
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_html import corpus  # noqa: E402


def start_driver(width=1366, height=768):
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={width},{height}",
                 "--lang=vi", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    options.set_capability("acceptInsecureCerts", True)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    return driver


def requested_urls(driver):
    """Every URL the browser asked for since the last call (all frames)."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def sign_in(driver, wait, base, login, password):
    driver.get(base + "/")
    wait.until(EC.url_contains("/console/login?next=/"))
    driver.find_element(By.NAME, "login").send_keys(login)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/login'] button").click()
    wait.until(EC.url_to_be(base + "/"))


def send_mx(port, sender, recipient, raw):
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        smtp.sendmail(sender, [recipient], raw)


def flows(args, driver, wait, seen):
    base = args.base.rstrip("/")

    def shot(name):
        driver.save_screenshot(os.path.join(args.out, name + ".png"))
        seen["steps"].append(name)

    sign_in(driver, wait, base, args.user, args.password)
    seen["landed"] = driver.current_url
    shot("01-hop-thu-den")

    # Reading: the Vietnamese subject and the attachment's name.
    driver.find_element(By.LINK_TEXT, args.subject).click()
    wait.until(EC.presence_of_element_located((By.ID, "subject")))
    seen["read_subject"] = driver.find_element(By.ID, "subject").text
    seen["attachments"] = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "ul.attachments a")]
    shot("02-doc-thu")

    # Replying with an English subject: the policy's warning, before sending.
    driver.find_element(By.ID, "reply").click()
    wait.until(EC.presence_of_element_located((By.ID, "compose")))
    subject = driver.find_element(By.ID, "subject")
    seen["reply_subject"] = subject.get_attribute("value")
    subject.clear()
    subject.send_keys("Meeting schedule for next week")
    body = driver.find_element(By.ID, "body")
    body.send_keys("Đã nhận được công văn, xin cảm ơn.")
    driver.find_element(By.ID, "send").click()
    wait.until(EC.visibility_of_element_located((By.ID, "problems")))
    seen["policy_warning"] = driver.find_element(By.ID, "problems").text
    seen["url_after_warning"] = driver.current_url
    shot("03-canh-bao-tieu-de")

    # Fixed, with a file: sent through the submission path.
    subject.clear()
    subject.send_keys(seen["reply_subject"])
    driver.find_element(By.ID, "files").send_keys(args.attach)
    shot("04-tra-loi-kem-tep")
    driver.find_element(By.ID, "send").click()
    wait.until(EC.url_contains("done=sent"))
    seen["sent_notice"] = driver.find_element(By.CSS_SELECTOR, ".notice").text
    shot("05-da-gui")

    # New mail over SMTP shows without a reload.
    driver.get(base + "/")
    wait.until(EC.presence_of_element_located((By.ID, "lines")))
    driver.execute_script("window.congvuNoReload = 'same page'")
    # Sent at once, maybe before the page's event stream is open: the stream starts
    # from the HIGHESTMODSEQ the page showed, so the message shows either way.
    raw = (
        f"From: {args.colleague}\r\nTo: {args.user}\r\nSubject: =?UTF-8?B?"
        + __import__("base64").b64encode(args.live_subject.encode()).decode()
        + "?=\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nXin chào.\r\n"
    ).encode()
    send_mx(args.smtp_port, args.colleague, args.user, raw)
    wait.until(lambda d: args.live_subject in d.find_element(By.ID, "lines").text)
    seen["live_same_page"] = driver.execute_script("return window.congvuNoReload") == "same page"
    shot("06-thu-moi-tu-dong")

    # A flag set on the page reaches an imaplib session in IDLE.
    context = ssl.create_default_context(cafile=args.cafile)
    context.check_hostname = False
    imap = imaplib.IMAP4_SSL("127.0.0.1", args.imaps_port, ssl_context=context)
    imap.login(args.user, args.password)
    imap.select("INBOX")
    tag = imap._new_tag()
    imap.send(tag + b" IDLE\r\n")
    seen["idle_ready"] = imap.readline().decode().strip()
    driver.find_element(By.LINK_TEXT, args.subject).click()
    wait.until(EC.presence_of_element_located((By.ID, "flag")))
    driver.find_element(By.ID, "flag").click()
    # The click reloads the page: an element found just before the reload goes
    # stale, so the wait looks again instead of failing.
    WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda d: d.find_element(By.ID, "flag").get_attribute("value") == "unflag")
    shot("07-gan-co")
    imap.sock.settimeout(10)
    idle_lines = []
    try:
        while True:
            line = imap.readline().decode(errors="replace").strip()
            idle_lines.append(line)
            if "FETCH" in line and "\\Flagged" in line:
                break
    except socket.timeout:
        pass
    seen["idle_lines"] = idle_lines
    imap.send(b"DONE\r\n")
    imap.logout()

    # Search without accents, and the phone-sized window.
    driver.get(base + "/mail?f=INBOX&subject=cong%20van")
    seen["search_found"] = args.subject in driver.find_element(By.ID, "lines").text
    shot("08-tim-kiem")
    driver.set_window_size(390, 844)
    driver.get(base + "/")
    shot("09-dien-thoai")
    driver.set_window_size(1366, 768)
    driver.get(base + "/mail/compose")
    shot("10-soan-thu")
    seen["foreign"] = [u for u in requested_urls(driver) if not u.startswith((base, "data:"))]


# Elements and attributes that run, load or submit, as found in a frame's document.
DANGEROUS = """
const found = [];
for (const e of document.body.querySelectorAll('script,iframe,object,embed,form,meta,link,style,base,svg,math,video,audio,source,input,button')) {
  found.push(e.tagName.toLowerCase());
}
for (const e of document.body.querySelectorAll('*')) {
  for (const a of e.attributes) {
    const value = a.value.trim().toLowerCase();
    if (a.name.startsWith('on') || a.name === 'style' || a.name === 'srcset' || a.name === 'background'
        || value.startsWith('javascript:') || (value.startsWith('http') && a.name !== 'href')) {
      found.push(e.tagName.toLowerCase() + '[' + a.name + ']');
    }
  }
}
return found;
"""


class Trap(http.server.BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):
        Trap.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a")

    do_POST = do_GET

    def log_message(self, *args):
        pass


def hostile(args, driver, wait, seen):
    base = args.base.rstrip("/")
    trap = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Trap)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    trap_url = f"http://127.0.0.1:{trap.server_address[1]}"
    messages = corpus(trap_url, args.colleague, args.user)
    refused = {}
    for name, raw in messages:
        try:
            send_mx(args.smtp_port, args.colleague, args.user, raw)
        except smtplib.SMTPResponseException as error:
            refused[name] = f"{error.smtp_code} {error.smtp_error.decode(errors='replace')}"
    seen["corpus"] = len(messages)
    seen["refused"] = refused
    sign_in(driver, wait, base, args.user, args.password)
    requested_urls(driver)
    opened = 0
    frames = 0
    alerts = []
    dangerous = {}
    for uid in range(1, len(messages) - len(refused) + 1):
        driver.get(f"{base}/mail/message?f=INBOX&uid={uid}")
        wait.until(EC.presence_of_element_located((By.ID, "subject")))
        time.sleep(0.3)  # anything that would run or load on its own has started
        # The first wall, seen from inside each frame: what the sanitiser let through.
        for index in range(len(driver.find_elements(By.CSS_SELECTOR, "iframe.body"))):
            driver.switch_to.frame(driver.find_elements(By.CSS_SELECTOR, "iframe.body")[index])
            found = driver.execute_script(DANGEROUS)
            if found:
                dangerous.setdefault(str(uid), []).extend(found)
            frames += 1
            driver.switch_to.default_content()
        try:
            alerts.append(driver.switch_to.alert.text)
            driver.switch_to.alert.dismiss()
        except NoAlertPresentException:
            pass
        if uid in (1, 2):
            driver.save_screenshot(os.path.join(args.out, f"hostile-{uid}.png"))
        opened += 1
    time.sleep(1)
    seen["opened"] = opened
    seen["frames"] = frames
    seen["dangerous"] = dangerous
    seen["alerts"] = alerts
    seen["trap_hits"] = Trap.hits
    seen["foreign"] = [u for u in requested_urls(driver) if not u.startswith((base, "data:"))]
    seen["console"] = [e["message"] for e in driver.get_log("browser")]
    seen["title"] = driver.title
    trap.shutdown()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["flows", "corpus"], required=True)
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--colleague", required=True)
    parser.add_argument("--smtp-port", type=int, required=True)
    parser.add_argument("--imaps-port", type=int)
    parser.add_argument("--cafile")
    parser.add_argument("--subject")
    parser.add_argument("--live-subject")
    parser.add_argument("--attach")
    args = parser.parse_args()

    driver = start_driver()
    wait = WebDriverWait(driver, 20)
    seen = {"steps": []}
    try:
        (flows if args.mode == "flows" else hostile)(args, driver, wait, seen)
    except Exception as error:  # the Rust test prints what was seen up to here
        seen["error"] = f"{type(error).__name__}: {error}"
        try:
            driver.save_screenshot(os.path.join(args.out, "error.png"))
            seen["page"] = driver.page_source[:4000]
        except Exception:
            pass
    finally:
        driver.quit()
    print(json.dumps(seen, ensure_ascii=False))


if __name__ == "__main__":
    main()
