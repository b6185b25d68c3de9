import ast
import re
import subprocess
import sys

from conftest import ROOT


def test_engine_source_never_imports_streamlit():
    for path in (ROOT / "digitdash").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "streamlit" for n in names), path


def test_importing_every_engine_module_loads_neither_streamlit_nor_tensorflow():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                     for p in (ROOT / "digitdash").rglob("*.py") if p.stem != "__main__")
    assert len(modules) > 50 and "digitdash.runs.store" in modules
    code = ("import sys, importlib\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module(m)\n"
            "print(sorted(k for k in ('streamlit', 'tensorflow', 'keras') if k in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_architecture_page_names_every_module():
    """docs/architecture.md's module tables are the map a newcomer reads: none missing, none stale."""
    doc = (ROOT / "docs" / "architecture.md").read_text()
    for folder in ("digitdash", "app_pages"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.stem in ("__init__", "__main__"):
                continue
            section = "### " + "/".join(path.relative_to(ROOT).parent.parts) + "/"
            assert section in doc, section
            table = doc[doc.index(section):].split("\n#")[0]
            assert f"| `{path.stem}` |" in table, f"{path} is not in docs/architecture.md under {section}"
    named = re.findall(r"^#+ ((?:digitdash|app_pages)\S*/)$|^\| `(\w+)` \|", doc, re.M)
    where = None
    for section, module in named:
        if section:
            where = ROOT / section
        elif where is not None:
            assert (where / f"{module}.py").exists(), f"docs/architecture.md names {module} in {where}: no such module"
