"""The phone's authenticator app, for browser tests: it reads the key the enrolment page shows
under the QR code (as a person types it in), and gives codes the site has not taken yet."""

import time
from datetime import datetime, timezone

import pyotp

SUBMIT = "main form input[type=submit]"


class AuthenticatorApp:
    def __init__(self):
        self.secrets = {}  # email -> the key read off the enrolment page
        self.last_step = {}  # email -> the time step of the last code given (the site takes each once)

    def code(self, email):
        totp = pyotp.TOTP(self.secrets[email])
        while True:  # the site accepts one step either side of its clock, each step once
            now = totp.timecode(datetime.now(timezone.utc))
            step = max(now, self.last_step.get(email, now - 1) + 1)
            if step <= now + 1:
                break
            time.sleep(1)
        self.last_step[email] = step
        return totp.generate_otp(step)

    def enrol(self, page, email):
        """On the enrolment page: read the key, confirm with a code; the recovery codes shown."""
        self.secrets[email] = page.get_by_test_id("two-factor-secret").inner_text().replace(" ", "")
        page.locator("#code").fill(self.code(email))
        page.locator(SUBMIT).click()
        page.get_by_test_id("recovery-codes").wait_for()
        return [item.inner_text() for item in page.locator("[data-testid=recovery-codes] li").all()]

    def answer(self, page, email):
        """On the sign-in's code step: enter the current code."""
        page.locator("#code").fill(self.code(email))
        page.locator(SUBMIT).click()
        page.wait_for_load_state()
