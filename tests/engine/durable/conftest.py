"""The kill tests' figures (runs, kills, mismatches...) in the terminal summary."""


def pytest_terminal_summary(terminalreporter):
    import sys
    killrun = sys.modules.get("killrun")
    figures = getattr(killrun, "FIGURES", None)
    if figures:
        terminalreporter.write_sep("-", "kill -9 and resume")
        terminalreporter.write_line(", ".join(f"{k}: {v}" for k, v in sorted(figures.items())))
