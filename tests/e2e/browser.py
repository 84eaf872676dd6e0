"""Plain helpers of the browser tests: signing in through the form, reading a certificate PDF and its QR code."""
import io
import re
import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from tests.helpers import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, never a downloaded one; as root it runs only without its sandbox.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Signs in through the real login form and waits for the home page."""
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("form [name=submit]").click()
    expect(page).to_have_url(re.compile(r"/home$"))


def pdf_text(pdf: bytes) -> str:
    return "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)


def qr_codes_in(pdf: bytes) -> list[str]:
    """What the PDF's QR codes say: its pages rendered by poppler's pdftoppm, read back by zbarimg."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "certificate.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "150", str(source), str(Path(folder) / "page")],
                       check=True, timeout=60)
        images = sorted(str(path) for path in Path(folder).glob("page*.png"))
        assert images, "pdftoppm rendered no page"
        # zbarimg exits non-zero when it finds no code: the caller asserts on what was found instead.
        found = subprocess.run(["zbarimg", "--raw", "-q", *images], check=False, capture_output=True, text=True,
                               timeout=60)
    return [line.strip() for line in found.stdout.splitlines() if line.strip()]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "page"
