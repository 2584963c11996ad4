"""Type stubs of the compiled module ``liqcore._convert`` (conversion of the caller's numbers and
containers for the book; its functions are C-level only, cimported by ``liqcore._book``)."""
