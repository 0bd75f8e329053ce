"""A learner's loop in a real browser: JupyterLab started by `./dev lab` on a lab folder, opened
in Debian's Chromium through Playwright. The learner makes `.dockerignore` in the editor (a hidden
file: JupyterLab refuses those unless set up for them), runs the notebook's `docker build` cell (built
by BuildKit, as the grader builds), runs the self-check cell and sees the full-marks scorecard; then
breaks the Dockerfile, runs the cell again and sees the failed criterion with its hint, not the old
result; and in Lab 05, the build secret criterion turning when the token goes through a build arg.
Screenshots are kept in the test's folder (`screenshots/`)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, edit, free_port, stop_group

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.browser]
CHROMIUM = shutil.which("chromium")



@pytest.fixture
def jupyterlab(tmp_path):
    folder = tmp_path / "01-basic-dockerfile"
    shutil.copytree(ROOT / "labs" / "01-basic-dockerfile", folder)
    shutil.copy(ROOT / "solutions" / "01-basic-dockerfile" / "Dockerfile", folder / "Dockerfile")
    (folder / ".dockerignore").unlink(missing_ok=True)  # the learner makes it in the browser
    yield from _serve(folder, tmp_path)


@pytest.fixture
def jupyterlab05(tmp_path):
    folder = tmp_path / "05-ship-it"
    shutil.copytree(ROOT / "labs" / "05-ship-it", folder)
    from graders import course

    for name in course.load().lab("05-ship-it").learner_files:  # the reference's own files, all of them
        shutil.copy(ROOT / "solutions" / "05-ship-it" / name, folder / name)
    yield from _serve(folder, tmp_path)


def _serve(folder: Path, tmp_path: Path):
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp_path / "jupyterlab.log", "w")
    server = subprocess.Popen([str(ROOT / "dev"), "lab", str(folder), "--no-browser", "--ip=127.0.0.1",
                               f"--port={port}", f"--IdentityProvider.token={token}",
                               f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}"],  # a first visit
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "jupyterlab.log").read_text()
            time.sleep(0.5)
    yield folder, url, token
    stop_group(server)
    log.close()
    subprocess.run(["docker", "rmi", "-f", "iris:dev"], capture_output=True, timeout=60)  # the notebook's build


def run_cell(page, text: str):
    """Run the first code cell holding `text`, as a learner does (Ctrl+Enter in it); the cell."""
    cell = page.locator(".jp-CodeCell", has_text=text).first
    cell.scroll_into_view_if_needed()
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    return cell


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (./dev setup installs it)")
def test_a_learner_works_through_the_self_check_in_jupyterlab(jupyterlab, tmp_path, engine):
    from playwright.sync_api import expect, sync_playwright

    folder, url, token = jupyterlab
    shots = tmp_path / "screenshots"
    shots.mkdir()
    ignore = (ROOT / "solutions" / "01-basic-dockerfile" / ".dockerignore").read_text()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/lab.ipynb?token={token}")
        page.locator(".jp-Notebook").first.wait_for(timeout=60_000)

        # .dockerignore, made in JupyterLab's editor and saved under its hidden name
        page.locator(".lm-MenuBar-itemLabel", has_text="File").click()
        page.locator(".lm-Menu-itemLabel", has_text="New").first.hover()
        page.locator(".lm-Menu-itemLabel", has_text="Text File").first.click()
        editor = page.locator(".jp-FileEditor .cm-content:visible").first
        editor.wait_for(timeout=30_000)
        editor.click()
        page.keyboard.insert_text(ignore)
        expect(editor).to_contain_text("belong in the image")  # the editor has it before it is saved
        page.keyboard.press("Control+Shift+S")
        name = page.locator(".jp-Dialog input").first
        name.fill(".dockerignore")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        saved = folder / ".dockerignore"
        deadline = time.monotonic() + 30
        while not (saved.exists() and saved.read_text().strip() == ignore.strip()):
            assert time.monotonic() < deadline, f"JupyterLab did not save .dockerignore: {saved.exists() and saved.read_text()!r}"
            time.sleep(0.2)
        page.screenshot(path=str(shots / "1-dockerignore-saved.png"))
        page.wait_for_timeout(1000)
        leftover = page.locator(".jp-Dialog")  # JupyterLab offers to save the untitled original: not wanted
        if leftover.count():
            leftover.get_by_role("button", name="Discard").click()

        # the notebook's build cell: BuildKit's log (the grader's builder), not the legacy builder's steps
        page.locator(".lm-TabBar-tabLabel", has_text="lab.ipynb").click()
        built = run_cell(page, "docker history iris:dev")
        output = built.locator(".jp-OutputArea")
        expect(output).to_contain_text("naming to docker.io/library/iris:dev", timeout=600_000)
        expect(output).to_contain_text("[internal] load build definition from Dockerfile")
        expect(output).not_to_contain_text("Step 1/")
        output.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "2-built-with-buildkit.png"), full_page=True)

        # the self-check cell, run as a learner runs it
        cell = run_cell(page, "%dockerlab check")
        card = cell.locator(".dl-card")
        expect(card).to_contain_text("100 / 100 points", timeout=600_000)
        expect(card.locator('tr[data-criterion="dockerignore"]')).to_have_class("passed")
        card.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "3-full-marks.png"), full_page=True)

        # a mistake: the image runs as root; the same cell now shows it, with the hint
        edit(folder / "Dockerfile", "USER app\n", "")
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        failed = card.locator('tr[data-criterion="non-root"]')
        expect(failed).to_have_class("failed", timeout=600_000)
        expect(failed).to_contain_text("README, section 6")
        expect(card).not_to_contain_text("100 / 100 points")
        expect(cell.locator(".dl-card .next")).to_contain_text("non-root user")
        failed.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "4-non-root-failed.png"), full_page=True)
        browser.close()
    kept = Path(os.environ.get("DOCKERLAB_SCREENSHOTS", tmp_path / "screenshots"))
    if kept != shots:
        shutil.copytree(shots, kept, dirs_exist_ok=True)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (./dev setup installs it)")
def test_a_learner_sees_the_build_secret_criterion_turn_in_the_lab05_notebook(jupyterlab05, tmp_path, engine):
    """Lab 05 through its notebook: the self-check passes the build secret, then the learner passes the
    token as a build arg and the same cell shows the criterion lost, where the token was found, and the hint."""
    from playwright.sync_api import expect, sync_playwright

    folder, url, token = jupyterlab05
    shots = Path(os.environ.get("DOCKERLAB_SCREENSHOTS", tmp_path / "screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/lab/tree/lab.ipynb?token={token}")
        page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
        cell = run_cell(page, "%dockerlab check 05-ship-it")
        card = cell.locator(".dl-card")
        expect(card).to_contain_text("100 / 100 points", timeout=600_000)
        expect(card.locator('tr[data-criterion="secret"]')).to_have_class("passed")
        edit(folder / "Dockerfile", "RUN --mount=type=secret,id=index_token python tools/install_private.py\n",
             "ARG INDEX_TOKEN\nRUN INDEX_TOKEN=$INDEX_TOKEN python tools/install_private.py\n")
        cell.locator(".cm-content").click()
        page.keyboard.press("Control+Enter")
        lost = card.locator('tr[data-criterion="secret"]')
        expect(lost).to_have_class("failed", timeout=600_000)
        expect(lost).to_contain_text("RUN |1 INDEX_TOKEN=dockerlab-canary-")
        expect(lost).to_contain_text("README, section 5")
        lost.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "5-lab05-secret-leaked.png"), full_page=True)
        browser.close()
