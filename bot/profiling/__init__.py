"""Evidence from inside the Node.js process: short CPU and heap profiles taken through the
project's agent (agent/), reduced to culprits (function or allocation site, script and line).

The triage asks for a profile only when its diagnosis calls for one; see `capture.py`.
"""
