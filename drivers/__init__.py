"""Hardware drivers: cameras, serial scanners and thermometers, GPIO; each with a simulator.

Nothing here knows the checkpoint rule; drivers hand value types (drivers.base) upward.
"""
