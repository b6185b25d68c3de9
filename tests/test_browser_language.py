"""A Spanish browser gets the Spanish interface; the language choice holds across pages."""
import pytest

from digitdash.i18n import catalogue

from browser import CHROMIUM, CHROMIUM_ARGS, again_until, app_server, server  # noqa: F401

pytestmark = pytest.mark.browser

EN, ES = catalogue("en"), catalogue("es")


@pytest.fixture
def spanish_page():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1400}, locale="es-ES")
        pg.set_default_timeout(60_000)
        yield pg
        browser.close()


def chosen_language(pg) -> str:
    box = pg.locator(".st-key-language input")
    box.wait_for()
    return box.input_value()


def test_spanish_browser_gets_spanish_and_the_choice_sticks(server, spanish_page):  # noqa: F811
    pg = spanish_page
    pg.goto(server)
    pg.get_by_text(ES["home.first_run"]).wait_for()
    assert chosen_language(pg) == "Español"
    nav = pg.locator('[data-testid="stSidebarNav"]').inner_text()
    assert ES["nav.train"] in nav and ES["nav.compare"] in nav
    # hover help is translated too
    icon = pg.locator(".st-key-dataset-choice [data-testid='stTooltipIcon']")
    again_until(lambda: (pg.mouse.move(0, 0), icon.hover()),
                lambda: pg.get_by_text(ES["common.dataset_help"][:40]).first.is_visible())

    pg.locator(".st-key-language").click()
    pg.get_by_role("option", name="English", exact=True).click()
    pg.get_by_text(EN["home.first_run"]).wait_for()
    pg.locator('[data-testid="stSidebarNav"] a', has_text=EN["nav.train"]).click()
    pg.get_by_role("heading", name=EN["train.title"]).wait_for()
    assert chosen_language(pg) == "English"
    pg.locator(".st-key-train").get_by_role("button", name=EN["train.train"], exact=True).wait_for()
    assert pg.get_by_text(ES["train.title"]).count() == 0


def test_the_language_chosen_survives_a_reload(server, spanish_page):  # noqa: F811
    pg = spanish_page
    pg.goto(server)
    pg.get_by_text(ES["home.first_run"]).wait_for()
    assert chosen_language(pg) == "Español"
    pg.wait_for_timeout(1000)                  # the page settled (the sidebar drawn once)
    pg.locator(".st-key-language").click()
    pg.get_by_role("option", name="English", exact=True).click()
    pg.get_by_text(EN["home.first_run"]).wait_for()
    pg.wait_for_timeout(1000)
    pg.reload()
    pg.get_by_text(EN["home.first_run"]).wait_for()
    assert chosen_language(pg) == "English"
