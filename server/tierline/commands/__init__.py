"""The CLI's commands: score, report, doctor, demo."""
