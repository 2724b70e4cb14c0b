"""Start the static site's kernel without a round trip to the page for every module it imports.

make lite puts this file into the site's python_stdlib.zip; Python imports it when Pyodide starts,
in the kernel's worker, before anything else runs.

Why: JupyterLite mounts the notebooks' drive at /drive and makes it the working directory before
the kernel imports IPython. For each top-level import Python first looks in the working directory
(sys.path[0] is "") and stats it to see whether it changed, and a module found nowhere (an optional
dependency) lists it too. On /drive each of these is a synchronous request that the page's main
thread answers: about 20 ms each, 99 of them while the kernel starts, about 2 s of every visit.

What: while the kernel starts, the working directory is left out of sys.path: no notebook code
runs yet, and the kernel's modules are all installed ones. At the first import after the kernel's
own package (pyodide_kernel) has been imported, "" goes back to the front of sys.path and this
finder removes itself, so the notebooks' own modules import (and shadow installed ones) exactly as
in any Python.
"""

import sys

KERNEL = "pyodide_kernel"
WORKING_DIRECTORY = ("", ".")


class StartupImports:
    """A meta path finder that keeps the working directory out of sys.path while the kernel starts."""

    hidden: list = []

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        """Hide the working directory from the kernel's start-up imports; put it back once the kernel is up."""
        if kernel_started():
            sys.path[:0] = [entry for entry in cls.hidden if entry not in sys.path]
            sys.meta_path[:] = [finder for finder in sys.meta_path if finder is not cls]
        else:
            cls.hidden += [entry for entry in sys.path if entry in WORKING_DIRECTORY and entry not in cls.hidden]
            sys.path[:] = [entry for entry in sys.path if entry not in WORKING_DIRECTORY]
        return None  # the usual finders find the module, on the sys.path that fits the moment


def kernel_started() -> bool:
    """Tell whether the kernel's package has finished importing."""
    module = sys.modules.get(KERNEL)
    return module is not None and not getattr(module.__spec__, "_initializing", False)


sys.meta_path.insert(0, StartupImports)
