"""HTTP pieces every provider's client shares: the transport and the retry rules.

``transport`` opens connections (TLS, proxies, happy eyeballs) and maps
network failures to httpx's errors; ``retry`` decides which answers and
failures are worth another try and how long to wait. A provider's client
adds only its own API: paths, auth headers, bodies and error shapes.
"""
