"""The editor's document model: plain Python, no tkinter (testable without a display)."""
