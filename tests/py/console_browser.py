#!/usr/bin/env python3
"""Drives the web console with real headless Chromium through WebDriver (Debian
chromium, chromium-driver, python3-selenium), as officials, a clerk and the
Provincial Office use it. Takes a screenshot of each step into --out and prints one
JSON object with what it saw; tests/console_browser.rs checks it.

Steps: an official signs in, changes the password, signs in again and finds a
colleague by typing "tuan"; a form with a wrong CSRF token is refused; a clerk files
Form 01 for two officials, one a namesake, and sees the collision in the live preview;
the clerk submits; the office approves. Every resource every page loaded must come from
the console's own origin.
"""

import argparse
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--official", required=True)
    parser.add_argument("--official-password", required=True)
    parser.add_argument("--new-password", required=True)
    parser.add_argument("--colleague", required=True)
    parser.add_argument("--clerk", required=True)
    parser.add_argument("--clerk-password", required=True)
    parser.add_argument("--office", required=True)
    parser.add_argument("--office-password", required=True)
    parser.add_argument("--first", required=True)
    parser.add_argument("--namesake", required=True)
    parser.add_argument("--person-id", required=True)
    args = parser.parse_args()

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1366,768",
                 "--lang=vi", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    # The server's certificate is its own self-signed one.
    options.set_capability("acceptInsecureCerts", True)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    wait = WebDriverWait(driver, 15)
    seen = {"foreign": [], "steps": []}
    base = args.base.rstrip("/")

    def shot(name):
        path = os.path.join(args.out, name + ".png")
        driver.save_screenshot(path)
        seen["steps"].append(name)
        # Every resource the page loaded, and every link and form target, is ours.
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
            ".concat(Array.from(document.querySelectorAll('[src],[href],[action]'))"
            ".map(e => e.src || e.href || e.action))")
        urls.append(driver.current_url)
        for url in urls:
            # mailto: links address mail, not another web origin.
            if url and not url.startswith((base, "data:", "mailto:")):
                seen["foreign"].append(url)

    def go(path):
        driver.get(base + path)

    def fill(name, value):
        field = driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)

    def sign_in(login, password, name):
        go("/console/login")
        fill("login", login)
        fill("password", password)
        shot(name)
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/login'] button").click()
        wait.until(EC.url_to_be(base + "/console/"))

    def sign_out():
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/logout'] button").click()
        wait.until(EC.url_contains("/console/login"))

    try:
        # An official: sign in, change the password, sign in again with it.
        sign_in(args.official, args.official_password, "01-sign-in")
        shot("02-mailbox")
        go("/console/password")
        fill("current", args.official_password)
        fill("new", args.new_password)
        fill("again", args.new_password)
        shot("03-password-form")
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/password'] button").click()
        wait.until(EC.url_contains("/console/login?done=password"))
        seen["password_notice"] = driver.find_element(By.CSS_SELECTOR, ".notice").text
        shot("04-password-changed")
        sign_in(args.official, args.new_password, "05-sign-in-again")

        # Finding a colleague by typing without accents.
        go("/console/directory")
        fill("q", "tuan")
        driver.find_element(By.CSS_SELECTOR, "form[role='search'] button").click()
        wait.until(EC.url_contains("q=tuan"))
        seen["found_colleague"] = args.colleague in driver.page_source
        shot("06-directory-search")

        # A form whose CSRF token was tampered with is refused.
        go("/console/password")
        driver.execute_script(
            "document.querySelector(\"form[action='/console/password'] input[name=csrf]\").value = '0'.repeat(64)")
        fill("current", args.new_password)
        fill("new", "mot-mat-khau-khac")
        fill("again", "mot-mat-khau-khac")
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/password'] button").click()
        time.sleep(0.5)
        seen["csrf_refused"] = "Biểu mẫu đã hết hạn" in driver.page_source
        shot("07-csrf-refused")
        go("/console/")
        sign_out()

        # A clerk files Form 01 for two officials, one a namesake of a colleague.
        sign_in(args.clerk, args.clerk_password, "08-clerk-sign-in")
        go("/console/requests/new?form=01")
        fill("requester", "Nguyễn Anh Tuấn")
        driver.execute_script("document.getElementById('effective_date').value = arguments[0]",
                              time.strftime("%Y-%m-%d"))
        fill("line.0.name", args.first)
        fill("line.1.name", args.namesake)
        fill("line.1.person_id", args.person_id)
        # The page's own script asks for each derived address while the name is typed.
        wait.until(lambda d: "trùng" in d.find_element(By.ID, "line-1-derived").text)
        wait.until(lambda d: "@" in d.find_element(By.ID, "line-0-derived").text)
        seen["collision_preview"] = driver.find_element(By.ID, "line-1-derived").text
        seen["first_preview"] = driver.find_element(By.ID, "line-0-derived").text
        shot("09-form-01-collision")
        driver.find_element(By.CSS_SELECTOR, "form[action='/console/requests/new'] button[type=submit]").click()
        wait.until(EC.url_contains("done=filed"))
        request_path = driver.current_url.split("?")[0][len(base):]
        seen["request"] = request_path
        shot("10-draft")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/submit'] button").click()
        wait.until(EC.url_contains("done=submitted"))
        shot("11-submitted")
        go("/console/")
        sign_out()

        # The Provincial Office sees the collision and approves.
        sign_in(args.office, args.office_password, "12-office-sign-in")
        go(request_path)
        seen["office_sees_collision"] = "collision" in driver.page_source
        shot("13-office-request")
        driver.find_element(By.CSS_SELECTOR, "form[action$='/approve'] button").click()
        # The approve form asks first (console.js, data-confirm).
        WebDriverWait(driver, 5).until(EC.alert_is_present()).accept()
        wait.until(EC.url_contains("done=approved"))
        seen["results"] = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "h3 + ol li")]
        shot("14-approved")

        # The office's dashboard and accounts.
        go("/console/dashboard")
        seen["dashboard_svg"] = len(driver.find_elements(By.CSS_SELECTOR, "svg.chart rect"))
        shot("16-dashboard")
        go("/console/accounts?q=hoa")
        shot("17-accounts")

        # The same console on a phone.
        driver.set_window_size(390, 844)
        go("/console/")
        shot("15-phone")
    finally:
        driver.quit()
    json.dump(seen, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
