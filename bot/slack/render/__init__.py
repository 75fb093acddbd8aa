"""The render stage: everything the bot shows in Slack, and the only place Block Kit is built.

Each module renders one kind of message from plain data (an incident, a triage's progress or
report, readings with their grades, a week's figures) into a `Message` of fallback text and
blocks (`blocks.Message`) that the outbox or a response URL carries as it is. Outside text is
escaped here, by `text.py`. `tests/app/test_layering.py` keeps Block Kit inside this package.
"""
