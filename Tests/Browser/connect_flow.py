#!/usr/bin/env python3
"""Completes Switchyard's OAuth connect flow in headless Chromium, as an end user would.

Usage: connect_flow.py CONNECT_URL DENY_URL SCREENSHOT_DIR

Opens the connect link, fills the provider's connection parameter, continues to the fake provider,
approves, and checks the success page; then reopens the used link and checks it is refused. With a
second link it denies at the provider and checks the failure page. Saves a screenshot of every page. Exits non-zero, with the reason on stderr, when anything differs.
Driven by OAuthBrowserTests (Swift), which checks the resulting integration through the API.
"""
import os
import sys

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from chromium import browser


def main(connect_url, deny_url, screenshots):
    os.makedirs(screenshots, exist_ok=True)
    driver = browser("900,900")
    # A wait can look at an element of the page being replaced by a navigation (a form post, a redirect): that
    # element goes stale mid-check, which means "not yet", not a failure.
    wait = WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException])
    try:
        # 1. The chooser: two providers, one asking for a workspace.
        driver.get(connect_url)
        wait.until(conditions.presence_of_element_located((By.TAG_NAME, "h1")))
        assert driver.find_element(By.TAG_NAME, "h1").text == "Connect an account", driver.page_source
        driver.save_screenshot(os.path.join(screenshots, "1-connect-chooser.png"))
        form = driver.find_element(By.CSS_SELECTOR, "form[aria-label='Connect Fake OAuth']")
        field = form.find_element(By.NAME, "parameter.workspace")
        label = driver.find_element(By.CSS_SELECTOR, "label[for='%s']" % field.get_attribute("id"))
        assert label.text == "Workspace", label.text
        field.send_keys("team-1")
        form.find_element(By.TAG_NAME, "button").click()

        # 2. The provider's consent page.
        wait.until(conditions.element_to_be_clickable((By.ID, "approve")))
        assert "Fake OAuth" in driver.title, driver.title
        driver.save_screenshot(os.path.join(screenshots, "2-provider-approve.png"))
        driver.find_element(By.ID, "approve").click()

        # 3. Back at Switchyard's callback: the success page.
        wait.until(conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "is connected"))
        assert "/oauth/callback" in driver.current_url, driver.current_url
        assert driver.find_element(By.TAG_NAME, "h1").text == "Fake OAuth is connected"
        driver.save_screenshot(os.path.join(screenshots, "3-connected.png"))

        # 4. The link works once.
        driver.get(connect_url)
        wait.until(conditions.presence_of_element_located((By.TAG_NAME, "h1")))
        assert driver.find_element(By.TAG_NAME, "h1").text == "This link no longer works", driver.page_source
        driver.save_screenshot(os.path.join(screenshots, "4-link-used.png"))

        # 5. Denying at the provider ends on a failure page that says so.
        driver.get(deny_url)
        form = driver.find_element(By.CSS_SELECTOR, "form[aria-label='Connect Fake OAuth']")
        form.find_element(By.NAME, "parameter.workspace").send_keys("team-2")
        form.find_element(By.TAG_NAME, "button").click()
        wait.until(conditions.element_to_be_clickable((By.ID, "deny"))).click()
        wait.until(conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Access was not granted"))
        assert "access_denied" in driver.find_element(By.CSS_SELECTOR, "[role=alert]").text
        driver.save_screenshot(os.path.join(screenshots, "5-denied.png"))
    except Exception:
        driver.save_screenshot(os.path.join(screenshots, "failure.png"))
        print("page at failure: %s\n%s" % (driver.current_url, driver.page_source[:2000]), file=sys.stderr)
        raise
    finally:
        driver.quit()
    print("connect flow completed in headless Chromium")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
