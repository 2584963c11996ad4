"""Feed layer: exchange synchronisation procedures (sans I/O) that keep compiled books
equal to the exchanges' books. Network adapters (ccxt.pro) build on these."""
