"""What a script can send a real server through Streamlit's own websocket protocol, beyond what the
pages offer: a clear-cache message, widget values no page would send, another browser's guesses.
The server answers each with one neutral line or nothing; no traceback, no server path."""
import asyncio

import pytest

from digitdash.plan.config import RunConfig
from digitdash.runs.store import Store
from tools import app_server
from tools.load import Session

PASSWORD = "right-password-123"


class Browser(Session):
    """A tab that also notes every widget's id (by its user key) and every text the server shows."""

    def __init__(self, port, cookie: str | None = None):
        super().__init__(port)
        self.cookie = cookie
        self.ids, self.texts, self.exceptions = {}, [], []
        self.query = ""          # the address bar's query string, as the server last set it
        self.boxes = {}          # each selectbox drawn: user key -> the option it shows
        self.downloads = {}      # each download button drawn: user key -> its element (url or deferred id)

    async def connect(self):
        import websockets
        headers = {"Cookie": self.cookie} if self.cookie else None
        self.ws = await websockets.connect(f"ws://127.0.0.1:{self.port}/_stcore/stream", subprotocols=["streamlit"],
                                           max_size=None, open_timeout=60, additional_headers=headers)

    def token_cookie(self) -> str:
        """The student cookie the server asked this tab to keep (what a browser sends from then on)."""
        said = next(t for t in self.texts if "document.cookie" in t)
        return said.split("document.cookie = '", 1)[1].split(";", 1)[0]

    async def _receive(self, timeout):
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        fm = ForwardMsg()
        fm.ParseFromString(raw)
        kind = fm.WhichOneof("type")
        if kind == "navigation":
            self.page_hash = fm.navigation.page_script_hash
        if kind == "page_info_changed":
            self.query = fm.page_info_changed.query_string
        if kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
            element = fm.delta.new_element
            which = element.WhichOneof("type")
            inner = getattr(element, which)
            if which == "exception":
                self.exceptions.append(inner)
            if getattr(inner, "id", "") and "-" in inner.id:
                self.ids[inner.id.split("-", 2)[-1]] = inner.id
            if which == "download_button":
                self.downloads[inner.id.split("-", 2)[-1]] = inner
            if which == "selectbox":
                shown = inner.raw_value if inner.HasField("raw_value") else (
                    inner.options[inner.default[0]] if inner.default else None)
                self.boxes[inner.id.split("-", 2)[-1]] = shown
            for field in ("body", "label", "message"):
                if isinstance(getattr(inner, field, None), str):
                    self.texts.append(getattr(inner, field))
        return kind == "script_finished" and fm.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN

    async def send(self, page, widgets=(), clear_cache=False, query=""):
        """Rerun `page` with these widget states ((user key or raw id, field, value), ...)."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        if clear_cache:
            msg = BackMsg()
            msg.clear_cache = True
            await self.ws.send(msg.SerializeToString())
        msg = BackMsg()
        state = msg.rerun_script
        state.page_name, state.page_script_hash, state.query_string = page, self.page_hash, query
        for key, field, value in widgets:
            w = state.widget_states.widgets.add(id=self.ids.get(key, key))
            setattr(w, field, value)
        self.texts.clear()
        await self.ws.send(msg.SerializeToString())
        while not await self._receive(60):
            pass
        return " | ".join(self.texts)


@pytest.fixture
def server(tmp_path):
    home = tmp_path / "home"
    store = Store(home)
    for n in range(3):
        run_id = store.create(RunConfig(), name=f"run {n}", owner="s-0000000000000000")
        store.finish(run_id, "done", "", {"test_accuracy": 0.9, "test_loss": 0.03150789067149162})
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'teacher_password = "{PASSWORD}"\n')
    port = app_server.free_port()
    proc = app_server.start(home, port, tmp_path / "server.log", args=["--secrets.files", str(secrets)])
    yield port, tmp_path / "server.log"
    app_server.stop(proc)


def talk(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 240))


def unlock(password):
    return [("teacher-password", "string_value", password), ("unlock", "trigger_value", True)]


def test_clearing_caches_resets_no_wait_and_another_browser_is_not_locked_out(server):
    port, log = server

    async def go():
        first = Browser(port)
        await first.connect()
        await first.send("teacher")
        student = Browser(port, cookie=first.token_cookie())       # the same browser, its cookie kept
        await first.close()
        await student.connect()
        await student.send("teacher")
        assert "next try is heard in 1 s" in await student.send("teacher", unlock("guess"))
        said = await student.send("teacher", unlock(PASSWORD), clear_cache=True)
        assert "Not unlocked" in said and "rights are on" not in said     # the wait held through a cache clear
        await student.send("teacher")
        said = await student.send("teacher", unlock(PASSWORD), clear_cache=True)
        assert "Not unlocked" in said and "rights are on" not in said
        teacher = Browser(port)                                      # another browser: the teacher's
        await teacher.connect()
        await teacher.send("teacher")
        said = await teacher.send("teacher", unlock(PASSWORD))
        assert "Teacher rights are on in this browser until" in said
        for b in (student, teacher):
            await b.close()
    talk(go())
    # the process's cached resources outlived the clear-cache messages: the runner was made once
    assert log.read_text().count("the teacher's link") == 1


def test_a_script_opening_a_new_browser_per_guess_gets_a_bounded_number_of_guesses(server):
    """Twenty wrong guesses from twenty cookie-less sessions close the password for the hour: the
    next session's right password is not even checked, and the teacher's link still unlocks."""
    from digitdash.classroom import teacher_gate
    port, log = server

    async def go():
        for n in range(teacher_gate.PASSWORD_BUDGET):
            b = Browser(port)
            await b.connect()
            await b.send("teacher")
            assert "Not unlocked" in await b.send("teacher", unlock(f"guess-{n}"))
            await b.close()
        b = Browser(port)
        await b.connect()
        await b.send("teacher")
        said = await b.send("teacher", unlock(PASSWORD))
        await b.close()
        teacher = Browser(port)
        await teacher.connect()
        key = teacher_gate.key(log.parent / "home")
        teacher.page_hash = ""
        said_link = await teacher.send("teacher", query=f"key={key}")
        await teacher.close()
        return said, said_link
    said, said_link = talk(go())
    assert "Too many wrong passwords" in said and "rights are on" not in said
    assert "Teacher rights are on in this browser until" in said_link


@pytest.mark.parametrize("value", ['{"selection": {"rows": [9999], "columns": []}}', "not json {",
                                   '{"selection": {"rows": ["x", -1, 1e99], "columns": []}}'])
def test_a_crafted_table_selection_shows_no_traceback(server, value):
    port, log = server

    async def go():
        b = Browser(port)
        await b.connect()
        await b.send("compare")
        table = next(k for k in b.ids if k.startswith("runs-table-"))     # keyed by the rows it shows
        said = await b.send("compare", [(table, "string_value", value)])
        said += await b.send("compare", [("$$ID-0123456789abcdef-no-such-widget", "string_value", "x")])
        await b.close()
        return said, b.exceptions
    said, exceptions = talk(go())
    assert all(not e.stack_trace for e in exceptions)
    assert ".py" not in said and "Traceback" not in said and "app_pages" not in said


async def on_train(port):
    """A new tab on the Train page, and its preset box's user key as first drawn."""
    b = Browser(port)
    await b.connect()
    await b.send("train")
    return b, next(k for k in b.ids if k.startswith("preset-"))


def test_a_browser_still_sending_the_preset_box_s_old_value_keeps_the_knobs_just_typed(server):
    """Under load a browser may send its next change before it has drawn what the last one changed:
    here the preset box still naming the preset first shown, while the form is already custom. The
    form keeps what was typed (the address bar holds it): no preset is loaded over it."""
    port, _ = server

    async def go():
        b, box = await on_train(port)
        stale = [(box, "string_value", "mlp-512")]          # the box as the browser first drew it
        await b.send("train", stale + [("cfg-layers", "string_value", "20")])
        await b.send("train", stale + [("cfg-layers", "string_value", "20"), ("cfg-epochs", "double_value", 7)])
        await b.close()
        return b.query
    assert talk(go()) == "layers=20&epochs=7"


def test_the_form_and_its_preset_box_survive_another_page(server):
    """Streamlit drops a page's widget values while another page is shown: back on Train, the form
    is the one the student left (not the first preset again), its box names it, and a preset picked
    in a box the page has replaced meanwhile is still a choice."""
    port, _ = server

    async def go():
        b, first = await on_train(port)
        await b.send("train", [("cfg-layers", "string_value", "20")])
        await b.send("compare")
        b.query = ""
        await b.send("train")
        back = b.query, {k: v for k, v in b.boxes.items() if k.startswith("preset-")}
        await b.send("train", [(first, "string_value", "cnn-basic")])        # chosen in the first box
        await b.close()
        return first, back, b.query
    first, (query_back, boxes_back), query = talk(go())
    assert first == "preset-mlp-512"
    assert query_back == "layers=20" and boxes_back.get("preset-custom", "").startswith("custom")  # "custom (your own settings)"
    assert "architecture=cnn" in query                                       # cnn-basic was loaded


def test_the_compare_csv_a_page_showed_still_arrives_after_the_page_reran(server):
    """A student clicks "Download table as CSV" just as Compare reruns (a tick, another student's run):
    the button the browser still shows must fetch the file. A file made only on the click is forgotten
    by Streamlit as soon as the page reruns; the file itself, sent with the page, is kept."""
    import urllib.request
    port, _ = server

    async def go():
        tab = Browser(port)
        await tab.connect()
        await tab.send("compare")
        before = tab.downloads["download-csv"]
        await tab.send("compare")                    # the page reran before the click reached the server
        await tab.send("compare")
        await tab.close()
        return before

    button = talk(go())
    assert button.url, "the CSV is made on the click: a click during a rerun asks for a file already forgotten"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{button.url}", timeout=30) as answer:
        csv = answer.read().decode()
    assert answer.status == 200 and "run 0" in csv and "run 2" in csv, csv[:300]


def test_the_class_shares_one_compare_csv_that_names_every_owner(server, tmp_path):
    """Thirty students at a lesson's end open Compare: the CSV of a thousand runs is one file for the
    class, not one per student (each student used to get a file of their own, their runs marked
    "you"). It names every run's owner as the class knows them, the viewer's own included."""
    import urllib.request

    from digitdash.classroom import identity
    port, _ = server
    home = tmp_path / "home"
    Store(home).set_student_name("s-0000000000000000", "Ada")
    owner_cookie = f"{identity.COOKIE}=s-0000000000000000.{identity._sign('s-0000000000000000', home)}"

    async def go():
        files, newcomer = [], []
        for cookie in (owner_cookie, None):              # the runs' owner, then a classmate
            tab = Browser(port, cookie=cookie)
            await tab.connect()
            await tab.send("compare")
            files.append(tab.downloads["download-csv"].url)
            newcomer.append(any("document.cookie" in said for said in tab.texts))    # given a new id
            await tab.close()
        return files, newcomer

    (mine, theirs), newcomer = talk(go())
    assert newcomer == [False, True], "the owner's browser is known as the owner"
    assert mine == theirs, "one file for the class"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{mine}", timeout=30) as answer:
        csv = answer.read().decode()
    assert "Ada" in csv and ",you," not in csv, csv[:300]
    assert csv.index("run 2") < csv.index("run 1") < csv.index("run 0"), "newest first"
    assert ",0.03151," in csv and "0.031507" not in csv, "figures rounded for a spreadsheet"


def test_a_spanish_class_gets_the_compare_csv_in_spanish(server):
    """The file a Spanish-speaking teacher downloads is headed as the table on the page is, and says
    each run's status in Spanish (it was headed in English, its statuses the store's words)."""
    import urllib.request
    port, _ = server

    async def go():
        tab = Browser(port)
        await tab.connect()
        await tab.send("compare")
        await tab.send("compare", [("language", "string_value", "Español")])
        await tab.close()
        return tab.downloads["download-csv"].url

    with urllib.request.urlopen(f"http://127.0.0.1:{port}{talk(go())}", timeout=30) as answer:
        header, first = answer.read().decode().splitlines()[:2]
    assert "exactitud de prueba" in header and "pérdida de prueba" in header, header
    assert "test accuracy" not in header and ",terminada," in first and ",done," not in first, (header, first)
