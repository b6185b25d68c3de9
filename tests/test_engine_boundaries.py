import ast
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
    modules = sorted(p.stem for p in (ROOT / "digitdash").glob("*.py") if p.stem != "__main__")
    code = ("import sys, importlib\n"
            f"for m in {modules!r}:\n"
            "    importlib.import_module('digitdash' if m == '__init__' else 'digitdash.' + m)\n"
            "print(sorted(k for k in ('streamlit', 'tensorflow', 'keras') if k in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
