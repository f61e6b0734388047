"""pyqtgraph's PyInstaller hook, minus the parts gradsim leaves out (gradsim.spec's hookspath;
a hook there wins over pyinstaller-hooks-contrib's).

The contrib hook collects every pyqtgraph submodule, to find its Qt-binding-specific
``*Template*`` modules. That imports pyqtgraph.opengl (warning "No module named 'OpenGL'") and
asks for pyqtgraph.flowchart's template although the spec excludes the flowchart (warning
"Hidden import ... not found"). This one does the same without walking into the subpackages
packaging/exclusions.py excludes, so neither warning is printed and the bundle is unchanged.
"""

from exclusions import EXCLUDED_MODULES  # on sys.path: gradsim.spec put packaging/ there
from PyInstaller.utils.hooks import collect_data_files, collect_submodules
from PyInstaller.utils.hooks.qt import exclude_extraneous_qt_bindings

_LEFT_OUT = (
    *(module for module in EXCLUDED_MODULES if module.startswith("pyqtgraph.")),
    "pyqtgraph.examples",  # importing it starts a QApplication
)


def _kept(name: str) -> bool:
    return not any(name == m or name.startswith(m + ".") for m in _LEFT_OUT)


datas = collect_data_files("pyqtgraph", excludes=["**/examples/*"])
submodules = collect_submodules("pyqtgraph", filter=_kept)
hiddenimports = [name for name in submodules if "Template" in name]
# The contrib runtime hook for pyqtgraph.multiprocess needs its bootstrap module.
hiddenimports += ["pyqtgraph.multiprocess.bootstrap"]
excludedimports = exclude_extraneous_qt_bindings(hook_name="hook-pyqtgraph", qt_bindings_order=None)
