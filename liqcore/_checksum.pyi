"""Type stubs of the compiled module ``liqcore._checksum`` (exchange checksums of a book; the
methods are ``OrderBook.checksum`` / ``OrderBook.verify_checksum``)."""

CHECKSUM_KINDS: dict[str, tuple[int, int, bool, bool]]
