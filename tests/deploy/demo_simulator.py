"""contrib/compose/demo_simulator.py, imported by path (contrib/ is not a package: the script
is mounted into the demo's simulator container and run there as a file)."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from types import ModuleType

from tests.deploy.compose_file import ROOT

SCRIPT = ROOT / "contrib" / "compose" / "demo_simulator.py"


@cache
def demo_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wallboard_demo_simulator", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
