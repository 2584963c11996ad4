"""Type stubs of the compiled module ``liqcore._status`` (the status -> exception map; its
functions are C-level only, cimported by the other compiled modules)."""
