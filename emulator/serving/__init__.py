"""Serving: everything between the socket and the WSGI app, so the server underneath can change.

listener  waitress on a socket, the TLS front before it, signals, connection rules (one process)
prefork   `--workers`: a supervisor and N processes on one listening socket
front     the TLS front: HTTPS and plain HTTP on one port, relayed to waitress
tls       the installation's CA and the server certificate
netfaults connection faults and the `Wire` contract by which they reach the socket
urls      the base URL a client reached (links)
startup   what `serve` works out before listening (TLS material, scenario names, banner)
logs      log format
"""
