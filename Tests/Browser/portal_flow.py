#!/usr/bin/env python3
"""Uses Switchyard's tenant portal in headless Chromium, as one of a tenant's people would.

Usage: portal_flow.py LINK EXPIRED_LINK OTHER_TENANT_URL INTEGRATION_ID HANDSHAKE_FILE SCREENSHOT_DIR

Opens the one-time link; sees the integration healthy and writes HANDSHAKE_FILE, then reloads until the test
has made its jobs fail and the integration shows as down, with the failed outcomes that explain it; redrives a
dead letter; adds a destination (its secret shown once), rotates its secret, disables, enables and test-sends it;
checks that another tenant's destination is not found; logs out; checks that the used and the expired links are
refused. Saves a screenshot of every step. Exits non-zero, with the reason on stderr, when anything differs.
Driven by PortalBrowserTests (Swift), which arranges the data and checks the database afterwards.
"""
import os
import sys
import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as conditions
from selenium.webdriver.support.ui import WebDriverWait

from chromium import browser


def heading(driver):
    return driver.find_element(By.TAG_NAME, "h1").text


def main(link, expired_link, other_tenant_url, integration_id, handshake, screenshots):
    os.makedirs(screenshots, exist_ok=True)
    driver = browser("1100,1000")
    wait = WebDriverWait(driver, 20, ignored_exceptions=[StaleElementReferenceException])
    base = link.split("/portal/")[0]

    def shot(name):
        driver.save_screenshot(os.path.join(screenshots, "portal-%s.png" % name))

    try:
        # 1. The link's landing page, then the overview.
        driver.get(link)
        assert heading(driver) == "Open the portal", driver.page_source
        driver.find_element(By.ID, "open").click()
        wait.until(conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Overview"))
        assert driver.current_url == base + "/portal", driver.current_url
        assert len(driver.find_elements(By.CSS_SELECTOR, "figure svg[role=img]")) == 2, "two charts expected"
        row = driver.find_element(By.CSS_SELECTOR, "tr[data-integration='%s']" % integration_id)
        assert row.find_element(By.CSS_SELECTOR, "[data-health]").get_attribute("data-health") == "healthy", row.text
        shot("1-overview-healthy")

        # 2. The integration, healthy; then failures make it go down.
        row.find_element(By.TAG_NAME, "a").click()
        wait.until(conditions.presence_of_element_located((By.ID, "health")))
        assert driver.find_element(By.ID, "health").text == "healthy"
        with open(handshake, "w") as marker:
            marker.write("healthy seen\n")
        deadline = time.time() + 120
        while driver.find_element(By.ID, "health").text != "down":
            assert time.time() < deadline, "the integration never showed as down"
            time.sleep(0.5)
            driver.refresh()
            wait.until(conditions.presence_of_element_located((By.ID, "health")))
        assert "failed" in driver.find_element(By.ID, "health-reason").text.lower() or \
            driver.find_element(By.ID, "health-reason").text, "no reason given"
        outcomes = [cell.text for cell in driver.find_elements(By.CSS_SELECTOR, "tr.outcome td:nth-child(4)")]
        assert "dead" in outcomes, outcomes
        shot("2-integration-down")

        # 3. Dead letters: redrive one.
        driver.find_element(By.LINK_TEXT, "Dead letters").click()
        wait.until(conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Dead letters"))
        before = len(driver.find_elements(By.CSS_SELECTOR, "tr[data-job]"))
        assert before == 3, before
        driver.find_element(By.CSS_SELECTOR, "tr[data-job] button").click()
        wait.until(conditions.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "queued again"))
        after = len(driver.find_elements(By.CSS_SELECTOR, "tr[data-job]"))
        assert after == before - 1, (before, after)
        shot("3-dead-letter-redriven")

        # 4. Destinations: add one, its secret shown once; rotate; disable, enable, test-send.
        driver.find_element(By.LINK_TEXT, "Destinations").click()
        wait.until(conditions.presence_of_element_located((By.ID, "add-destination")))
        driver.find_element(By.ID, "url").send_keys("http://127.0.0.1:9/hooks")
        driver.find_element(By.ID, "description").send_keys("From the portal")
        driver.find_element(By.ID, "event_types").send_keys("integration.*, webhook.received")
        driver.find_element(By.ID, "add-destination").click()
        wait.until(conditions.presence_of_element_located((By.ID, "secret")))
        first_secret = driver.find_element(By.ID, "secret").text
        assert first_secret.startswith("whsec_"), first_secret
        shot("4-destination-added")
        driver.find_element(By.ID, "rotate").click()
        wait.until(lambda d: d.find_elements(By.ID, "secret") and d.find_element(By.ID, "secret").text != first_secret)
        assert driver.find_element(By.ID, "secret").text.startswith("whsec_")
        driver.find_element(By.ID, "disable").click()
        wait.until(conditions.text_to_be_present_in_element((By.ID, "state"), "disabled"))
        driver.find_element(By.ID, "enable").click()
        wait.until(conditions.text_to_be_present_in_element((By.ID, "state"), "enabled"))
        driver.find_element(By.ID, "test-send").click()
        wait.until(conditions.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "test event"))
        assert "whsec_" not in driver.page_source, "a secret was shown again"
        shot("5-destination-managed")

        # 5. Another tenant's destination does not exist here.
        driver.get(other_tenant_url)
        assert heading(driver) == "Not found", driver.page_source
        shot("6-other-tenant")

        # 6. Log out; the session is over, the used and the expired links are refused.
        driver.get(base + "/portal")
        driver.find_element(By.CSS_SELECTOR, "form[action='/portal/logout'] button").click()
        wait.until(conditions.text_to_be_present_in_element((By.TAG_NAME, "h1"), "logged out"))
        driver.get(base + "/portal")
        assert heading(driver) == "Your portal session has ended", driver.page_source
        driver.get(link)
        assert heading(driver) == "This link no longer works", driver.page_source
        driver.get(expired_link)
        assert heading(driver) == "This link no longer works", driver.page_source
        shot("7-link-refused")
    except Exception:
        shot("failure")
        print("page at failure: %s\n%s" % (driver.current_url, driver.page_source[:3000]), file=sys.stderr)
        raise
    finally:
        driver.quit()
    print("portal flow completed in headless Chromium")


if __name__ == "__main__":
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    main(*sys.argv[1:])
