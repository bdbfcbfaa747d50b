"""The editor's features and their commands.

Each module here is one feature: ``register(app)`` adds its commands to the
registry (``app.commands``, :mod:`.registry`: menu entries, toolbar buttons,
keys, enabled-state testers) and returns the object the window keeps, if any
(``app.files``, ``app.runs``...). ``app`` is a :class:`.window.Window`, passed
in, never global. To add a command: write its handler in its feature's
module and one ``add_command(...)`` line in that module's ``register``.
"""
