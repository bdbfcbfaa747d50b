"""Node plugins: declaring nodes (:mod:`.api`) and finding them (:mod:`.discovery`).

``from papy_engine.plugin import node`` is all a plugin module needs; see
:mod:`papy_engine.plugin.api` for an example.  ``papy plugins`` (and
``python -m papy_engine.plugin``) prints what :func:`discover` finds.
"""
from .api import (CATEGORY_ICONS, REQUIRED, NodeSpec, Param, PluginError, build_spec, node,
                  resolve, spec_of)
from .discovery import (PluginFailure, PluginInfo, Registry, add_plugin_path, discover,
                        plugin_path, plugins_report)

__all__ = [
    "node", "NodeSpec", "Param", "PluginError", "REQUIRED", "CATEGORY_ICONS",
    "spec_of", "resolve", "build_spec", "discover", "plugins_report", "plugin_path",
    "add_plugin_path", "Registry", "PluginFailure", "PluginInfo",
]
