"""Pure byte codecs for the serial devices: encode and decode, no I/O, no threads.

Each protocol module turns a byte buffer into results plus the unconsumed tail, so the transport can
feed it chunks as they arrive, the simulators reuse the encoders, and hypothesis can fuzz the
decoders. An import-linter contract keeps ``serial`` and ``threading`` out of this package.
"""
