"""gdbstub."""
