"""The community office's console, served beside the receiver: every gate at a glance, live
alerts, gaps, households and passes, reports and ledgers, for the office's own officers.

Above the gate console in the layers (it reuses the console's web plumbing: host and client
allow-lists, body limits, security headers) and above the receiver, whose database it reads
through ``ReceiverDb.reading`` / ``writing``.
"""
