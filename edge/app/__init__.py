"""The composition root: settings composed from every part, start-up and stop, the ``kakou``
command. The only package that imports every layer (drivers, the edge core, the store, sync and
the console), and the one nothing imports."""
