"""Local stand-ins for network peers that cannot run here (Datadog, New Relic).

Each fake is a small aiohttp server bound to 127.0.0.1 on a free port. It answers in the
vendor's documented shapes from seeded data, checks credentials and arguments, and can be
told to fail the way the real service does (bad keys, rate limits, server errors, silence).
"""
