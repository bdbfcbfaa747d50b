"""The run's progress in the status area: a bar with percentage, items/s and ETA
when the input's length is known, else a count and a rate
(:func:`papy_gui.model.progress.progress`). Hidden until a run starts; it
keeps the last run's figures once it ended. Touches Tk only when what it
shows changes (RunState sends a statistics snapshot ~10x/s)."""
from __future__ import annotations

import tkinter as tk
from tkinter import ttk

from ..model.events import RunStateEvent
from ..model.progress import progress
from ..model.run_state import RunState

STEPS = 1000  # the bar's resolution


class StatusProgress(ttk.Frame):
    def __init__(self, master: tk.Misc, run_state: RunState) -> None:
        super().__init__(master, style="Status.TFrame")
        self.run_state = run_state
        self.bar = ttk.Progressbar(self, orient="horizontal", mode="determinate",
                                   maximum=STEPS, length=160)
        self.label = ttk.Label(self, text="", style="Status.TLabel", anchor="e")
        self.label.pack(side="right", padx=(6, 4))
        self._shown: tuple[int | None, str] = (None, "")
        self._bar_on = False
        run_state.subscribe(self._on_run)

    def _on_run(self, event: RunStateEvent, data: dict) -> None:
        if event in ("stats", "state"):
            self.refresh()

    def refresh(self) -> None:
        rs = self.run_state
        fraction, text = progress(rs.stats, active=rs.active)
        value = None if fraction is None else round(fraction * STEPS)
        if (value, text) == self._shown:
            return
        if value is not None and not self._bar_on:
            self.bar.pack(side="right", pady=2)
            self._bar_on = True
        elif value is None and self._bar_on:
            self.bar.pack_forget()
            self._bar_on = False
        if value is not None and value != self._shown[0]:
            self.bar.configure(value=value)
        if text != self._shown[1]:
            self.label.configure(text=text)
        self._shown = (value, text)

    @property
    def text(self) -> str:
        return self._shown[1]

    @property
    def fraction(self) -> float | None:
        return None if self._shown[0] is None else self._shown[0] / STEPS
