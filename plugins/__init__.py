"""PaPy's bundled node plugins (installed as the ``papy_plugins`` package).

Each public submodule is one plugin: ``files``, ``text``, ``records``,
``shell``, ``numbers``, ``sequences``, ``flow`` and ``parallel``.  Its node
functions are plain module-level functions decorated with
:func:`papy_engine.plugin.node`, so a saved pipeline imports them, e.g.
``from papy_plugins.text import grep``.  See docs/plugins.md.
"""
