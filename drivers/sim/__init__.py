"""Simulated serial devices on pseudo-terminals, speaking each real protocol through drivers.frames.

The real driver classes open the pty slave (or its stable link) exactly like a hardware port, so
tests and demos exercise the same code as the gate: framing, timeouts, unplug and reopen.
"""
